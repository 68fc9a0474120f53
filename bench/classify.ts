/**
 * Exec classification throughput: plain argv and `bash -lc` scripts through classifyExec (known-safe,
 * dangerous, rules, policy), beside shell-quote's parse of the same inputs in the same run as the
 * baseline. Goals: >= 100,000 argv/s and >= 20,000 scripts/s.
 * Run: node --import tsx bench/classify.ts
 */
import { parse as shellQuoteParse, quote } from 'shell-quote';
import { classifyExec } from '../src/safety/classifyExec.ts';
import { loadShellGrammar } from '../src/safety/shellParse.ts';
import { parseRules } from '../src/safety/ruleParse.ts';
import type { ExecClassificationInput } from '../src/safety/types.ts';
import { systemPrograms } from '../test/support/programs.ts';

await loadShellGrammar();

const ARGVS: string[][] = [
  ['ls', '-la'], ['git', 'status'], ['git', 'log', '--oneline', '-n', '20'], ['git', 'diff', '--stat', 'HEAD~1'],
  ['rg', '-n', 'TODO', 'src'], ['find', '.', '-name', '*.ts', '-type', 'f'], ['sed', '-n', '1,40p', 'src/index.ts'],
  ['cat', 'package.json'], ['cargo', 'build', '--release'], ['npm', 'test'], ['rm', '-rf', 'dist'], ['git', 'push', '--force'],
  ['sudo', 'apt-get', 'install', 'x'], ['python3', '-c', 'print(1)'], ['/usr/bin/git', 'branch', '-a'], ['./script.sh', 'x'],
];
const SCRIPTS: string[] = [
  'ls -la', 'git status && git diff --stat', "grep -rn 'TODO' src | head -n 20", 'cat a.txt | wc -l', 'ls && pwd; echo done',
  'cargo build 2>&1 | tail -n 20', 'echo $(git rev-parse HEAD)', 'rm -rf dist && npm run build', "sed -n '1,20p' README.md",
  'find . -name "*.rs" | xargs grep -n unsafe', 'cd sub && git log -n 5 --oneline', "python3 - <<'PY'\nprint(1)\nPY",
];
const rules = parseRules('[[rule]]\npattern = ["npm", "test"]\ndecision = "allow"\njustification = "tests"\n', 'bench');
const input = (command: string[]): ExecClassificationInput => ({
  command,
  cwd: '/work',
  withEscalatedPermissions: false,
  policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
  platformSandbox: 'bwrap',
  approvedForSession: false,
  programs: systemPrograms,
});
const argvInputs = ARGVS.map(input);
const scriptInputs = SCRIPTS.map((s) => input(['bash', '-lc', s]));
const argvStrings = ARGVS.map((a) => quote(a));

/**
 * Runs `fn` over the inputs for about `ms` milliseconds; returns operations per wall-clock second
 * and per CPU second of this process (the latter is steadier when other work shares the machine).
 */
function rate<T>(items: T[], fn: (x: T) => unknown, ms = 1500): { wall: number; cpu: number } {
  let sink = 0;
  // warm up (JIT, wasm tiering) for half a second
  for (const w0 = performance.now(); performance.now() - w0 < 500; ) for (let i = 0; i < 100; i++) sink ^= fn(items[i % items.length]!) ? 1 : 0;
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 500; i++) sink ^= fn(items[(n + i) % items.length]!) ? 1 : 0;
    n += 500;
    t = performance.now();
  }
  const c = process.cpuUsage(c0);
  if (sink === 42) console.log('');
  return { wall: (n / (t - t0)) * 1000, cpu: n / ((c.user + c.system) / 1e6) };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(12);
const argvRate = rate(argvInputs, (i) => classifyExec(i, rules));
const argvBaseline = rate(argvStrings, (s) => shellQuoteParse(s));
const scriptRate = rate(scriptInputs, (i) => classifyExec(i, rules));
const scriptBaseline = rate(SCRIPTS, (s) => shellQuoteParse(s));

function line(label: string, ours: { wall: number; cpu: number }, base: { wall: number; cpu: number }, goal: number): void {
  console.log(
    `${label} ${fmt(ours.wall)}/s wall ${fmt(ours.cpu)}/s cpu | shell-quote parse ${fmt(base.wall)}/s wall ${fmt(base.cpu)}/s cpu | ` +
      `ratio ${(ours.cpu / base.cpu).toFixed(2)} (cpu) | goal ${goal.toLocaleString('en-US')}: ${ours.cpu >= goal ? 'met' : 'MISSED'} (cpu), ${ours.wall >= goal ? 'met' : 'missed'} (wall)`,
  );
}
line('argv classifications  ', argvRate, argvBaseline, 100_000);
line('bash -lc classifications', scriptRate, scriptBaseline, 20_000);
