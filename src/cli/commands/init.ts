/**
 * `warden init <client>`: writes warden's MCP server and hooks into an agent client's config files
 * (the table in src/clients/clientConfigs.ts), `--remove` takes exactly those entries out again,
 * `--dry-run` prints the change as a diff and writes nothing. Every file is planned before any is
 * written, so a file warden refuses (it does not parse, or the user has something in warden's
 * place) leaves all of them untouched. An existing file is copied to `<file>.warden-backup-<time>`
 * before it is changed, and replaced atomically with its mode kept. Running it twice changes nothing.
 */
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { APPROVAL_POLICIES, SANDBOX_MODES } from '../../policy.ts';
import { INIT_CLIENTS, clientPlan, type FilePlan, type InitClient } from '../../clients/clientConfigs.ts';
import { ConfigRefusedError, editJson, parseJsonConfig, parseTomlConfig, renderJson, withTomlBlock, withoutTomlBlock } from '../../clients/configEdit.ts';
import { lineDiff } from '../../clients/lineDiff.ts';
import { ConfigError } from '../../errors.ts';

interface InitFlags {
  project?: boolean;
  user?: boolean;
  dryRun?: boolean;
  remove?: boolean;
  store?: string;
  approval?: string;
  sandbox?: string;
}

interface Change {
  path: string;
  before: string | null;
  after: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The file's new text (null: delete it) for adding or removing warden's entries. */
export function changeFor(file: FilePlan, before: string | null, mode: 'add' | 'remove'): Change {
  if (mode === 'add' && file.blocker) {
    const doc = file.format === 'toml' ? parseTomlConfig(before, file.path) : parseJsonConfig(before, file.path);
    const why = file.blocker(doc);
    if (why) throw new ConfigRefusedError(`${file.path}: ${why}; change that first (warden did not change any file)`);
  }
  if (file.format === 'toml') {
    if (mode === 'add') return { path: file.path, before, after: withTomlBlock(before, file.block, file.owned, file.path) };
    if (before === null) return { path: file.path, before, after: null };
    const rest = withoutTomlBlock(before, file.path);
    return { path: file.path, before, after: rest.trim() === '' ? null : rest };
  }
  const doc = parseJsonConfig(before, file.path);
  const edited = editJson(doc, file.edits, mode, file.path);
  if (mode === 'remove') {
    if (before === null) return { path: file.path, before, after: null };
    if (Object.keys(edited).length === 0) return { path: file.path, before, after: null };
  }
  // Nothing to add or take out: the file is left byte for byte as it is (init twice changes nothing).
  if (before !== null && JSON.stringify(edited) === JSON.stringify(doc)) return { path: file.path, before, after: before };
  return { path: file.path, before, after: renderJson(edited) };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function apply(change: Change): string {
  const { path, before, after } = change;
  let backup = '';
  if (before !== null) {
    // Never over an earlier backup (the one from before the first init is the one worth keeping).
    let copy = `${path}.warden-backup-${stamp()}`;
    for (let n = 1; existsSync(copy); n++) copy = `${path}.warden-backup-${stamp()}-${n}`;
    copyFileSync(path, copy, constants.COPYFILE_EXCL);
    backup = ` (backup: ${copy})`;
  }
  if (after === null) {
    unlinkSync(path);
    return `removed ${path}${backup}`;
  }
  mkdirSync(dirname(path), { recursive: true });
  const mode = before !== null ? statSync(path).mode & 0o7777 : 0o644;
  const tmp = `${path}.warden-tmp-${process.pid}`;
  writeFileSync(tmp, after, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
  return `${before === null ? 'created' : 'updated'} ${path}${backup}`;
}

export function register(program: Command): void {
  program
    .command('init')
    .description("write warden's MCP server and hooks into an agent client's config (merged; --remove takes them out)")
    .argument('<client>', `the client to configure: ${INIT_CLIENTS.join(', ')}`)
    .option('--project', "configure this project (the current directory): the client's project files (default)")
    .option('--user', "configure every project of this user: the client's user-level files")
    .option('--remove', 'take out what warden init added, and nothing else')
    .option('--dry-run', 'print the change to each file as a diff; write nothing')
    .option('--store <location>', 'event store the server and hooks use (default: warden\'s default store)')
    .addOption(new Option('--approval <policy>', 'approval policy the server and hooks use (default: theirs, on-request)').choices(APPROVAL_POLICIES))
    .addOption(new Option('--sandbox <mode>', 'sandbox policy the server and hooks use (default: theirs, workspace-write)').choices(SANDBOX_MODES))
    .action((client: string, flags: InitFlags) => {
      if (!(INIT_CLIENTS as readonly string[]).includes(client)) throw new ConfigError(`unknown client '${client}' (known: ${INIT_CLIENTS.join(', ')})`);
      if (flags.project && flags.user) throw new ConfigError('--project and --user exclude each other');
      const scope = flags.user ? 'user' : 'project';
      const mode = flags.remove ? 'remove' : 'add';
      const store = flags.store === undefined ? undefined : /^postgres(ql)?:\/\//.test(flags.store) ? flags.store : resolve(flags.store);
      const plan = clientPlan(client as InitClient, {
        scope,
        projectDir: process.cwd(),
        home: homedir(),
        env: process.env,
        platform: process.platform,
        node: process.execPath,
        wardenBin: realpathSync(process.argv[1]!),
        ...(store ? { store } : {}),
        policyArgs: [...(flags.approval ? ['--approval', flags.approval] : []), ...(flags.sandbox ? ['--sandbox', flags.sandbox] : [])],
      });
      // Plan every file first: one refusal leaves all of them untouched.
      const changes = plan.files.map((file) => changeFor(file, readText(file.path), mode));
      for (const change of changes) {
        if (change.before === change.after) {
          process.stdout.write(`unchanged ${change.path}\n`);
        } else if (flags.dryRun) {
          process.stdout.write(lineDiff(change.path, change.before, change.after));
        } else {
          process.stdout.write(`${apply(change)}\n`);
        }
      }
      if (mode === 'add') for (const note of plan.notes) process.stdout.write(`note: ${note}\n`);
      if (flags.dryRun) process.stdout.write('dry run: nothing was written\n');
    });
}
