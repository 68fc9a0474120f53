/**
 * `warden init`'s config edits as laws: for every client and scope, adding warden's entries to any
 * user config and then removing them gives back the user's config; adding twice is adding once;
 * the user's own entries (hooks, servers, comments in TOML) survive both; a file that does not parse,
 * or that holds the user's own entry in warden's place, is refused. Then the real CLI: --dry-run
 * writes nothing, a backup is kept, a refusal leaves every file untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseToml } from 'smol-toml';
import { INIT_CLIENTS, clientPlan, type InitContext } from '../../src/clients/clientConfigs.ts';
import { ConfigRefusedError, editJson, isWardenHook, parseJsonConfig, withTomlBlock, withoutTomlBlock, type JsonObject } from '../../src/clients/configEdit.ts';
import { changeFor } from '../../src/cli/commands/init.ts';
import { warden } from '../support/cli.ts';

const ctx = (scope: 'project' | 'user', store?: string): InitContext => ({
  scope,
  projectDir: '/p',
  home: '/h',
  env: {},
  platform: 'linux',
  node: '/usr/bin/node',
  wardenBin: '/opt/warden/bin/warden.js',
  ...(store ? { store } : {}),
});

const userHook = fc.record({ matcher: fc.constantFrom('Bash', 'Write', '.*'), hooks: fc.constant([{ type: 'command', command: 'echo mine' }]) });
// The one thing --remove cannot give back: an empty object or array the user had where warden
// writes (`"mcpServers": {}`), which is pruned with warden's entry; so the user's are non-empty here.
const userJson: fc.Arbitrary<JsonObject> = fc.record(
  {
    theme: fc.constantFrom('dark', 'light'),
    mcpServers: fc.dictionary(fc.constantFrom('a', 'b', 'github'), fc.record({ command: fc.string() }), { minKeys: 1 }),
    servers: fc.dictionary(fc.constantFrom('a', 'b'), fc.record({ command: fc.string() }), { minKeys: 1 }),
    hooks: fc.record({ PreToolUse: fc.array(userHook, { minLength: 1, maxLength: 2 }), BeforeTool: fc.array(userHook, { minLength: 1, maxLength: 2 }) }, { requiredKeys: ['PreToolUse'] }),
    enabledMcpjsonServers: fc.array(fc.constantFrom('x', 'y'), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<JsonObject>;

test('for every client and scope: add then remove gives back the user\'s JSON, and add twice is add once', () => {
  fc.assert(
    fc.property(fc.constantFrom(...INIT_CLIENTS), fc.constantFrom('project' as const, 'user' as const), userJson, fc.option(fc.constant('/s/events.db'), { nil: undefined }), (client, scope, generated, store) => {
      const doc = JSON.parse(JSON.stringify(generated)) as JsonObject; // plain objects, as JSON.parse gives
      for (const file of clientPlan(client, ctx(scope, store)).files) {
        if (file.format !== 'json') continue;
        const once = editJson(doc, file.edits, 'add', file.path);
        assert.deepEqual(editJson(once, file.edits, 'add', file.path), once);
        assert.deepEqual(editJson(once, file.edits, 'remove', file.path), doc);
        // The user's hooks are all still there, and warden's are recognised as warden's.
        for (const [event, groups] of Object.entries((doc.hooks ?? {}) as Record<string, unknown[]>)) {
          assert.deepEqual(((once.hooks as Record<string, unknown[]>)[event] ?? []).slice(0, groups.length), groups);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('the TOML block: comments and the user\'s tables survive; add/remove round-trips; a user [mcp_servers.warden] or bad TOML is refused', () => {
  const plan = clientPlan('codex', ctx('user')).files.find((f) => f.format === 'toml')!;
  assert.equal(plan.format, 'toml');
  if (plan.format !== 'toml') return;
  const mine = '# my settings\nmodel = "o3"\n\n[mcp_servers.github]\ncommand = "gh" # inline comment\n';
  const added = withTomlBlock(mine, plan.block, plan.owned, 'c.toml');
  assert.ok(added.startsWith(mine));
  const parsed = parseToml(added) as { mcp_servers: Record<string, Record<string, unknown>> };
  assert.equal(parsed.mcp_servers.warden!.required, true);
  assert.equal(parsed.mcp_servers.warden!.default_tools_approval_mode, 'approve');
  assert.deepEqual({ ...parsed.mcp_servers.github }, { command: 'gh' });
  assert.equal(withTomlBlock(added, plan.block, plan.owned, 'c.toml'), added);
  assert.equal(withoutTomlBlock(added, 'c.toml'), mine);
  assert.equal(withTomlBlock(null, plan.block, plan.owned, 'c.toml').startsWith('# >>> warden'), true);
  assert.throws(() => withTomlBlock('[mcp_servers.warden]\ncommand = "mine"\n', plan.block, plan.owned, 'c.toml'), ConfigRefusedError);
  assert.throws(() => withTomlBlock('model = \n', plan.block, plan.owned, 'c.toml'), ConfigRefusedError);
  // An inline mcp_servers table cannot take a [mcp_servers.warden] table after it: refused, not broken.
  assert.throws(() => withTomlBlock('mcp_servers = { github = { command = "gh" } }\n', plan.block, plan.owned, 'c.toml'), ConfigRefusedError);
  assert.throws(() => withoutTomlBlock('# >>> warden: added by `warden init`; `warden init --remove` takes this block out\n[x]\n', 'c.toml'), ConfigRefusedError);
});

test('JSON that does not parse, or is not an object, or has a non-object where warden writes, is refused', () => {
  assert.throws(() => parseJsonConfig('{"a": 1, // comment\n}', 'f.json'), ConfigRefusedError);
  assert.throws(() => parseJsonConfig('[1]', 'f.json'), ConfigRefusedError);
  const file = clientPlan('gemini', ctx('project')).files[0]!;
  if (file.format !== 'json') throw new Error('json expected');
  assert.throws(() => editJson({ mcpServers: 'x' }, file.edits, 'add', 'f.json'), ConfigRefusedError);
  assert.throws(() => editJson({ hooks: { BeforeTool: {} } }, file.edits, 'add', 'f.json'), ConfigRefusedError);
});

test('warden\'s hooks are recognised by shape; the user\'s are not', () => {
  const cases: Array<[unknown, boolean]> = [
    [{ type: 'command', command: '/usr/bin/node /x/warden/bin/warden.js hook claude-code' }, true],
    [{ type: 'command', command: "'/n o/node' /w/warden.js hook gemini --store /s" }, true],
    [{ type: 'command', command: 'warden hook codex' }, true],
    [{ type: 'command', command: 'echo warden' }, false], // names warden but is not its hook
    [{ type: 'command', command: '/x/hook claude-code' }, false], // a hook command, not warden's
    [{ type: 'command', command: 'warden hook claude-codex' }, false],
    [{ type: 'command' }, false],
    ['warden hook codex', false],
  ];
  for (const [hook, expected] of cases) assert.equal(isWardenHook(hook), expected, JSON.stringify(hook));
});

test('the real CLI: --dry-run writes nothing; init keeps a backup and is idempotent; --remove restores; a refusal writes no file', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-init-')));
  const env = { HOME: dir };
  mkdirSync(join(dir, '.gemini'));
  const mine = { theme: 'dark', hooks: { BeforeTool: [{ matcher: 'read_file', hooks: [{ type: 'command', command: 'echo mine' }] }] } };
  writeFileSync(join(dir, '.gemini', 'settings.json'), JSON.stringify(mine));
  const dry = warden(['init', 'gemini', '--dry-run'], { cwd: dir, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /\+\s+"warden": \{/);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, '.gemini', 'settings.json'), 'utf8')), mine);
  const run = warden(['init', 'gemini', '--store', 'events.db'], { cwd: dir, env });
  assert.equal(run.code, 0, run.stderr);
  const written = JSON.parse(readFileSync(join(dir, '.gemini', 'settings.json'), 'utf8'));
  assert.deepEqual(written.mcpServers.warden.env, { WARDEN_STORE: join(dir, 'events.db') });
  assert.equal(written.hooks.BeforeTool.length, 2);
  assert.equal(readdirSync(join(dir, '.gemini')).filter((n) => n.includes('warden-backup')).length, 1);
  assert.match(warden(['init', 'gemini', '--store', 'events.db'], { cwd: dir, env }).stdout, /^unchanged /);
  assert.equal(warden(['init', '--remove', 'gemini'], { cwd: dir, env }).code, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, '.gemini', 'settings.json'), 'utf8')), mine);

  // Claude Code: .mcp.json parses, .claude/settings.local.json does not: neither is written.
  writeFileSync(join(dir, '.mcp.json'), '{"mcpServers": {}}');
  mkdirSync(join(dir, '.claude'));
  writeFileSync(join(dir, '.claude', 'settings.local.json'), '{ // jsonc\n}');
  const refused = warden(['init', 'claude-code'], { cwd: dir, env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /not plain JSON/);
  assert.equal(readFileSync(join(dir, '.mcp.json'), 'utf8'), '{"mcpServers": {}}');
  assert.equal(readdirSync(join(dir, '.claude')).some((n) => n.includes('warden-backup')), false);
  assert.equal(warden(['init', 'nosuch'], { cwd: dir, env }).code, 2);
});

test('a setting that keeps warden\'s hooks from running is refused, so nobody believes the client\'s tools are judged', () => {
  const cases: Array<[client: 'claude-code' | 'codex' | 'gemini', file: RegExp, text: string, refused: boolean]> = [
    ['claude-code', /settings\.json$/, '{"disableAllHooks": true}', true],
    ['claude-code', /settings\.json$/, '{"disableAllHooks": false}', false],
    ['codex', /config\.toml$/, '[features]\nhooks = false\n', true],
    ['codex', /config\.toml$/, '[features]\ncodex_hooks = false\n', true], // the deprecated alias still switches them off
    ['codex', /config\.toml$/, '[features]\nhooks = true\n', false],
    ['gemini', /settings\.json$/, '{"hooksConfig": {"enabled": false}}', true],
    ['gemini', /settings\.json$/, '{"hooksConfig": {"disabled": ["warden"]}}', true],
    ['gemini', /settings\.json$/, '{"hooksConfig": {"disabled": ["other"]}}', false],
  ];
  for (const [client, name, text, refused] of cases) {
    const file = clientPlan(client, ctx('user')).files.find((f) => name.test(f.path))!;
    const run = () => changeFor(file, text, 'add');
    if (refused) assert.throws(run, ConfigRefusedError, `${client} ${text}`);
    else assert.doesNotThrow(run, `${client} ${text}`);
    // Taking warden out is never refused.
    assert.doesNotThrow(() => changeFor(file, text, 'remove'));
  }
});
