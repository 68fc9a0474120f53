/**
 * A program planted in a directory the person's PATH searches first must never run as the
 * known-safe program it is named after. The agent writes `./ls` (a workspace write it may make
 * without asking), then asks for `ls` with PATH holding `.`, an empty entry or a workspace
 * directory, or for `bash -lc ls` with a login profile that puts `.` first. Under `--approval
 * never`, with danger-full-access and with the default sandbox, the planted file must not run: no
 * marker, no output of its own; the system's ls runs instead and stays known-safe. Real CLI, real
 * bwrap (where present), a fake $HOME.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { warden } from '../support/cli.ts';
import { readEvents } from './mcp.harness.ts';

function plant(dir: string, marker: string): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'ls');
  writeFileSync(file, `#!/bin/sh\necho PLANTED-LS-RAN\ntouch '${marker}'\n`);
  chmodSync(file, 0o755);
}

test('a planted ls on an unsafe PATH entry never runs as known-safe ls; a clean PATH keeps ls known-safe', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pathplant-')));
  const ws = join(base, 'ws');
  const home = join(base, 'home');
  mkdirSync(home);
  const marker = join(ws, 'MARKER');
  plant(ws, marker);
  plant(join(ws, 'bin'), marker);
  plant(join(ws, 'node_modules', '.bin'), marker);
  writeFileSync(join(ws, 'visible.txt'), 'x\n');
  // a login shell's profile that puts the cwd first again
  const profileHome = join(base, 'profile-home');
  mkdirSync(profileHome);
  for (const f of ['.profile', '.bash_profile']) writeFileSync(join(profileHome, f), 'export PATH=".:$PATH"\n');
  const sys = process.env.PATH ?? '/usr/bin:/bin';
  const cases: Array<{ name: string; path: string; argv: string[]; home?: string }> = [
    { name: '`.` first', path: `.:${sys}`, argv: ['ls'] },
    { name: 'an empty entry first', path: `:${sys}`, argv: ['ls'] },
    { name: 'an empty entry inside', path: sys.replace(':', '::'), argv: ['ls'] },
    { name: 'a trailing empty entry and a relative one', path: `node_modules/.bin:${sys}:`, argv: ['ls'] },
    { name: 'the workspace bin directory', path: `${join(ws, 'bin')}:${sys}`, argv: ['ls'] },
    { name: 'a script', path: `.:${sys}`, argv: ['bash', '-lc', 'ls && pwd'] },
    { name: "a login profile's PATH", path: sys, argv: ['bash', '-lc', 'ls'], home: profileHome },
    { name: 'a clean PATH', path: sys, argv: ['ls'] },
  ];
  const policies = [['--approval', 'never', '--sandbox', 'danger-full-access'], ['--approval', 'never']];
  let n = 0;
  for (const c of cases) {
    for (const policy of policies) {
      const store = join(base, `events-${n}.db`);
      const r = warden(['exec', ...policy, '--store', store, '--', ...c.argv], {
        cwd: ws,
        env: { PATH: c.path, HOME: c.home ?? home, XDG_CONFIG_HOME: join(base, 'config'), WARDEN_SESSION: `s${n++}` },
      });
      const what = `${c.name} (${c.argv.join(' ')}, ${policy.join(' ')})`;
      assert.doesNotMatch(r.stdout + r.stderr, /PLANTED-LS-RAN/, `${what}: the planted ls ran`);
      assert.equal(existsSync(marker), false, `${what}: the planted ls wrote its marker`);
      // the system's ls ran instead, and was judged known-safe
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.match(r.stdout, /visible\.txt/, what);
      const classified = (await readEvents(store)).find((e) => e.type === 'Classified')?.data as { knownSafe: boolean; outcome: string };
      assert.equal(classified.knownSafe, true, what);
      assert.equal(classified.outcome, 'auto-approve', what);
    }
  }
  // the planted file is runnable: spelled as a path it does run (the test is not passing for a broken plant)
  const direct = warden(['exec', '--approval', 'never', '--sandbox', 'danger-full-access', '--store', join(base, 'direct.db'), '--', './ls'], { cwd: ws, env: { HOME: home, WARDEN_SESSION: 'direct' } });
  assert.match(direct.stdout, /PLANTED-LS-RAN/);
  assert.equal(existsSync(marker), true);
});

function preToolUse(ws: string, toolUseId: string, command: string): string {
  return JSON.stringify({ session_id: 'sess-1', cwd: ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command, description: 'd' }, tool_use_id: toolUseId });
}

test("hooks: the payload carries no PATH; a client-run ls is not known-safe when the hook's PATH has an unsafe entry, and warden's run never finds the planted one", () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pathhook-')));
  const ws = join(base, 'ws');
  const marker = join(ws, 'MARKER');
  plant(ws, marker);
  writeFileSync(join(ws, 'visible.txt'), 'x\n');
  const sys = process.env.PATH ?? '/usr/bin:/bin';
  const env = (path: string) => ({ PATH: path, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'config') });
  const hook = (runner: string, path: string, id: string) => {
    const r = warden(['hook', 'claude-code', '--runner', runner, '--approval', 'never', '--store', join(base, `${id}.db`)], { cwd: ws, env: env(path), input: preToolUse(ws, id, 'ls') });
    return { r, out: r.code === 0 && r.stdout !== '' ? JSON.parse(r.stdout).hookSpecificOutput : null };
  };
  // the client's own tool would run ./ls: no allow for it
  const client = hook('client', `.:${sys}`, 'c1');
  assert.notEqual(client.out?.permissionDecision, 'allow', `client runner allowed ls: ${client.r.stdout}${client.r.stderr}`);
  // with a clean PATH the same call is known-safe and allowed (the check above is not a broken hook)
  const clean = hook('client', sys, 'c2');
  assert.equal(clean.out?.permissionDecision, 'allow', clean.r.stderr);
  // warden runs it: allowed, and `warden exec --request` (started with the agent's PATH) runs the system ls
  const rewritten = hook('warden', `.:${sys}`, 'w1');
  assert.equal(rewritten.out?.permissionDecision, 'allow', rewritten.r.stderr);
  const argv = parse(rewritten.out.updatedInput.command) as string[];
  const run = warden(argv.slice(argv.indexOf('exec')), { cwd: ws, env: env(`.:${sys}`) });
  assert.doesNotMatch(run.stdout + run.stderr, /PLANTED-LS-RAN/);
  assert.equal(existsSync(marker), false);
  assert.match(run.stdout, /visible\.txt/, run.stderr);
});
