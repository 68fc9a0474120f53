/**
 * Options shared by several commands (policy, store, session, logging) and their validation.
 * A bad value is a ConfigError naming the flag: the command stops before anything is recorded.
 */
import { realpathSync } from 'node:fs';
import { isatty } from 'node:tty';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import * as z from 'zod';
import { APPROVAL_POLICIES, SANDBOX_MODES, type ApprovalPolicy, type SandboxMode } from '../policy.ts';
import type { RequestPolicy } from '../events/types.ts';
import { ConfigError } from '../errors.ts';
import { parseDomainPattern } from '../network/domainPolicy.ts';
import { configureLogger, resolveLogLevel } from '../log.ts';
import { openStore, resolveStoreLocation } from '../events/openStore.ts';
import type { EventStore } from '../events/eventStore.ts';
import { defaultHiddenPaths, wardenOwnPaths } from '../sandbox/hiddenPaths.ts';
import { wardenStateDir } from '../privateFiles.ts';
import { readProcStat } from '../sandbox/procStat.ts';
import { defaultRulesPath } from '../safety/ruleFile.ts';
import { launcherOf, processMark } from '../requests/processIdentity.ts';

export interface PolicyFlags {
  approval: ApprovalPolicy;
  sandbox: SandboxMode;
  writableRoot: string[];
  network?: boolean;
  tmpWrite: boolean;
  hide?: string[];
  /** false with --no-default-hides */
  defaultHides?: boolean;
  allowUnixSocket?: string[];
  allowDomain?: string[];
  denyDomain?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addPolicyOptions(cmd: Command, defaults: { approval?: ApprovalPolicy; sandbox?: SandboxMode } = {}): Command {
  return cmd
    .addOption(new Option('--approval <policy>', 'approval policy').choices(APPROVAL_POLICIES).default(defaults.approval ?? 'on-request'))
    .addOption(new Option('--sandbox <mode>', 'sandbox policy').choices(SANDBOX_MODES).default(defaults.sandbox ?? 'workspace-write'))
    .option('--writable-root <dir>', 'extra writable root under workspace-write (repeatable)', collect, [])
    .option('--network', 'allow network access inside the sandbox')
    .option('--no-tmp-write', 'do not make /tmp and $TMPDIR writable under workspace-write')
    .option('--hide <path>', 'hide this path from sandboxed commands, besides the default secrets list (repeatable)', collect, [])
    .option('--no-default-hides', "do not hide the default secrets list (~/.ssh, ~/.aws, ...; warden's own files stay hidden)")
    .option('--allow-unix-socket <path>', 'let sandboxed commands connect to this Unix socket (repeatable; every other one stays blocked)', collect, [])
    .option('--allow-domain <domain>', 'let sandboxed commands reach this domain through warden\'s proxy (repeatable; *.example.com for subdomains)', collect, [])
    .option('--deny-domain <domain>', 'never let sandboxed commands reach this domain (repeatable; wins over --allow-domain)', collect, []);
}

/** A path flag as the person meant it: `~/x` is under $HOME, a relative one is against cwd. */
function userPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return resolve(path);
}

/**
 * The paths hidden from sandboxed commands: warden's own files (always), the default secrets list
 * (unless --no-default-hides) and every --hide. Reads only the environment.
 */
export function hiddenPaths(flags: Pick<PolicyFlags, 'hide' | 'defaultHides'>, own: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const list = [...own, ...(flags.defaultHides === false ? [] : defaultHiddenPaths(env, process.getuid?.())), ...(flags.hide ?? []).map(userPath)];
  return [...new Set(list)];
}

/** warden's own files for a surface that runs requests: the store it opens and the rules it reads. */
export function ownPaths(flags: { store?: string; rules?: string }, env: NodeJS.ProcessEnv = process.env): string[] {
  const location = resolveStoreLocation({ flag: flags.store });
  return wardenOwnPaths({
    storePath: location.kind === 'sqlite' ? location.path : null,
    rulesPath: flags.rules === undefined ? defaultRulesPath(env) : resolve(flags.rules),
    env,
  });
}

export function addStoreOption(cmd: Command): Command {
  return cmd
    .option('--store <location>', 'event store: SQLite file path or postgres:// URL (default: $WARDEN_STORE, else $XDG_STATE_HOME/warden/events.db)')
    .option('--log-level <level>', 'log level on stderr (fatal|error|warn|info|debug|trace|silent; default $WARDEN_LOG or warn)');
}

export function realDir(path: string, flag: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    throw new ConfigError(`${flag} ${path}: no such directory`);
  }
}

/**
 * The request policy from the flags. Roots are resolved on disk for requests that will run; the
 * batch classifiers (`classify`, `check-patch`) judge hypothetical paths and take them as given.
 */
export function buildPolicy(flags: PolicyFlags, options: { resolveRoots?: boolean; own?: string[] } = {}): RequestPolicy {
  return {
    hidden: hiddenPaths(flags, options.own ?? []),
    ...((flags.allowUnixSocket ?? []).length > 0 ? { allowUnixSockets: flags.allowUnixSocket!.map(userPath) } : {}),
    approval: flags.approval,
    sandbox: flags.sandbox,
    writableRoots: options.resolveRoots === false ? flags.writableRoot.map((d) => resolve(d)) : flags.writableRoot.map((d) => realDir(d, '--writable-root')),
    network: flags.network === true,
    tmpWrite: flags.tmpWrite !== false,
    ...domainLists(flags),
  };
}

/** --allow-domain / --deny-domain, each checked when read (a bad pattern stops the command). */
function domainLists(flags: PolicyFlags): { domains?: { allow: string[]; deny: string[] } } {
  const allow = flags.allowDomain ?? [];
  const deny = flags.denyDomain ?? [];
  if (allow.length === 0 && deny.length === 0) return {};
  const parse = (flag: string) => (raw: string) => {
    try {
      return parseDomainPattern(raw);
    } catch (error) {
      throw new ConfigError(`${flag}: ${(error as Error).message}`);
    }
  };
  return { domains: { allow: allow.map(parse('--allow-domain')), deny: deny.map(parse('--deny-domain')) } };
}

/**
 * Parses one JSONL input line against its schema. A line that is not JSON, or not of the expected
 * shape, becomes the `{error}` output line naming what was expected; the run goes on.
 */
export function parseJsonLine<T>(line: string, schema: z.ZodType<T>, expected: string): { data: T } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
  const input = schema.safeParse(json);
  return input.success ? { data: input.data } : { error: `expected ${expected}: ${z.prettifyError(input.error)}` };
}

/** Reads JSON lines on stdin and writes one JSON line per non-blank input line, in order. */
export async function mapJsonLines(handle: (line: string) => Record<string, unknown>): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    process.stdout.write(`${JSON.stringify(handle(line))}\n`);
  }
}

export function setupLogging(flags: { logLevel?: string }): void {
  try {
    configureLogger(resolveLogLevel(flags.logLevel));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/**
 * The store the flags name. Only the commands that record requests (`exec`, `serve`, `hook`) pass
 * `create: true`; every other command fails on a missing file rather than inventing an empty store.
 */
export async function openStoreFromFlags(flags: { store?: string }, options: { create: boolean } = { create: false }): Promise<EventStore> {
  return openStore(resolveStoreLocation({ flag: flags.store }), { ...storeCheckOptions(), ...options });
}

/**
 * Where a store's start-up check is remembered (quickCheckMemo.ts): warden's state folder, which
 * every sandbox hides; nothing when there is none (then every start runs SQLite's quick_check).
 */
export function storeCheckOptions(env: NodeJS.ProcessEnv = process.env): { checkMemoDir?: string } {
  const state = wardenStateDir(env);
  return state === null ? {} : { checkMemoDir: join(state, 'store-checks') };
}

/**
 * The default session groups the commands of one terminal: the kernel's session id of this process
 * (the login shell's), so `a` in one `warden exec` carries to the next in the same terminal.
 */
export function defaultSessionId(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARDEN_SESSION && env.WARDEN_SESSION.trim() !== '') return env.WARDEN_SESSION;
  // null off Linux: a fresh id
  const sid = readProcStat('self')?.field(6);
  if (sid && sid !== '0') return `term-${hostname()}-${sid}`;
  return randomUUID();
}

let ownMark: ReturnType<typeof processMark> | undefined;

/**
 * Where a request comes from. `pid` is the process every command run for it descends from (this
 * one, or for a hook the agent client); its mark lets `warden approve` and the inspector refuse a
 * decision from one of those commands (src/requests/deciderCheck.ts). Reads /proc.
 */
export function origin(surface: string, callId?: string, clientCallId?: string, pid: number = process.pid) {
  const proc = pid === process.pid ? (ownMark ??= processMark(pid)) : processMark(pid);
  // warden serve's client, or the program that ran warden exec without a terminal: the agent's own
  // tools (a client's built-in shell) run under it, not under this process
  const launcher = (surface === 'mcp' || surface === 'exec') && pid === process.pid ? (ownLauncher === undefined ? (ownLauncher = ownLauncherOf()) : ownLauncher) : null;
  return {
    surface,
    pid,
    host: hostname(),
    user: process.env.USER,
    ...(callId ? { callId } : {}),
    ...(clientCallId ? { clientCallId } : {}),
    ...(proc ? { proc } : {}),
    ...(launcher ? { launcher } : {}),
  };
}

let ownLauncher: ReturnType<typeof launcherOf> | undefined;

/**
 * The program that started this serve or exec; none when stdin is a terminal: serve started by hand,
 * or exec asking its person there (whose other panes and tabs must still be able to decide).
 */
function ownLauncherOf(): ReturnType<typeof launcherOf> {
  return isatty(0) ? null : launcherOf(process.pid);
}

/** A flag's positive number (seconds, say); undefined when the flag was not given. A bad value is a ConfigError naming the flag. */
export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} must be a positive number, got '${value}'`);
  return n;
}

/** A flag's number that may be zero (milliseconds, say), or `fallback` when the flag was not given. */
export function nonNegativeNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${flag} must be a number >= 0, got '${value}'`);
  return n;
}
