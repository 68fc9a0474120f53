// Runs the red-team corpus through `warden classify` under every policy and sandbox; prints the
// commands that come back known-safe (auto-approved, bare under danger-full-access).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CORPUS } from './corpus.mjs';
// controls mixed into the corpus that are read-only and may be known-safe (reviewed by hand)
const BENIGN = new Set(JSON.parse(readFileSync(new URL('./benign.json', import.meta.url), 'utf8')).map((c) => JSON.stringify(c)));
// an entry is an argv, or { command, cwd } for a request run in a directory the agent chose
const input = CORPUS.map((c) => JSON.stringify(Array.isArray(c) ? { command: c } : c)).join('\n') + '\n';
const policies = process.argv.includes('--all') ? ['untrusted', 'on-request', 'on-failure', 'never'] : ['untrusted'];
const sandboxes = process.argv.includes('--all') ? ['read-only', 'workspace-write', 'danger-full-access'] : ['danger-full-access'];
const hits = new Map();
for (const a of policies) for (const s of sandboxes) {
  const r = spawnSync('node', ['bin/warden.js', 'classify', '--approval', a, '--sandbox', s], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== CORPUS.length) { console.error('line count', lines.length, CORPUS.length, r.stderr); process.exit(2); }
  lines.forEach((l, i) => {
    const v = JSON.parse(l);
    const bad = v.known_safe || (v.outcome === 'auto-approve' && v.decision_source !== 'policy') || (a === 'untrusted' && v.outcome === 'auto-approve');
    if (bad) { const k = JSON.stringify(CORPUS[i]); hits.set(k, (hits.get(k) ?? '') + ` ${a}/${s}`); }
  });
}
let findings = 0;
for (const [k, v] of hits) if (!BENIGN.has(k)) { findings++; console.log(k, '\t', v); }
const unsafe = CORPUS.filter((c) => !BENIGN.has(JSON.stringify(c))).length;
console.error(`${CORPUS.length} commands (${unsafe} unsafe, ${CORPUS.length - unsafe} benign controls) x ${policies.length * sandboxes.length} configs; findings (unsafe but known-safe/auto-approved): ${findings}`);
process.exitCode = findings === 0 ? 0 : 1;
