/**
 * Every `warden` sub-command, one module each. A module exports `register(program)` and keeps its
 * own options; add a line here to make a command appear.
 *
 * Only the module of the command being run is imported: `exec` must not pay for the MCP SDK,
 * elkjs or pg (issue #14: start-up in tens of milliseconds). Help, an unknown name or no command
 * at all loads every module, so `warden --help` lists them and a typo gets commander's suggestion.
 */
import type { Command } from 'commander';

type Registrar = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<{ register: Registrar }>> = {
  exec: () => import('./exec.ts'),
  audit: () => import('./audit.ts'),
  verify: () => import('./verify.ts'),
  'check-patch': () => import('./checkPatch.ts'),
  classify: () => import('./classify.ts'),
  explain: () => import('./explain.ts'),
  inspect: () => import('./inspect.ts'),
  replay: () => import('./replay.ts'),
  approve: () => import('./approve.ts'),
  serve: () => import('./serve.ts'),
  hook: () => import('./hook.ts'),
  init: () => import('./init.ts'),
};

/** The sub-command named by `args` (process.argv without node and script), if it is a known one. */
export function commandNamed(args: readonly string[]): string | null {
  const first = args[0];
  if (first === undefined || first === 'help' || !Object.hasOwn(COMMANDS, first)) return null;
  return first;
}

export async function registerFor(program: Command, args: readonly string[]): Promise<void> {
  const name = commandNamed(args);
  // `warden --version` is answered by the program itself: no command module is needed.
  const versionOnly = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
  const names = versionOnly ? [] : name === null ? Object.keys(COMMANDS) : [name];
  for (const mod of await Promise.all(names.map((n) => COMMANDS[n]!()))) mod.register(program);
}
