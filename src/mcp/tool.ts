/**
 * What one MCP tool is, for the server's table: its name and text for the model, the zod schema of
 * its arguments (the JSON Schema a client sees is generated from it), and how parsed arguments
 * become an approval request. A tool decides nothing: every request goes through the machine.
 * Pure but for resolving the call's working directory (realpath, stat).
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { RequestPolicy } from '../events/types.ts';
import type { ApprovalRequest } from '../machines/approval.machine.ts';
import { isRunDirectoryInside } from '../sandbox/writableRoots.ts';

/** What a call brings besides its arguments. */
export interface ToolCallContext {
  policy: RequestPolicy;
  /** Where a call without `workdir` runs. */
  defaultCwd: string;
  origin: ApprovalRequest['origin'];
}

export interface Tool<Schema extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  schema: Schema;
  /** The request to run, or the sentence to answer with when none can be made (nothing was run). */
  toRequest(args: z.infer<Schema>, ctx: ToolCallContext): ApprovalRequest | { refused: string };
}

/** The directory a call runs in, resolved through symlinks; null when it is not an existing directory. */
export function resolveWorkdir(workdir: string | undefined, defaultCwd: string): string | null {
  const path = workdir === undefined ? defaultCwd : isAbsolute(workdir) ? workdir : resolve(defaultCwd, workdir);
  try {
    const real = realpathSync(path);
    return statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

/**
 * The call's working directory, or the refusal to answer with when `workdir` is not an existing
 * directory (`nothing` says what did not happen: "run", "applied"). Under workspace-write the
 * directory a command runs in is writable, so the agent's `workdir` must lie inside the directory
 * warden serves or a writable root the person gave: anywhere else it would choose its own
 * writable root (redteam: `workdir: ~/.cargo/bin` let a sandboxed command, run without asking,
 * plant the `cargo` the person's next shell runs).
 */
export function callDirectory(workdir: string | undefined, ctx: ToolCallContext, nothing: string): { cwd: string } | { refused: string } {
  const cwd = resolveWorkdir(workdir, ctx.defaultCwd);
  if (cwd === null) return { refused: `workdir ${workdir ?? ctx.defaultCwd} is not an existing directory; nothing was ${nothing}.` };
  if (ctx.policy.sandbox !== 'workspace-write') return { cwd };
  if (isRunDirectoryInside(cwd, ctx.defaultCwd, ctx.policy.writableRoots)) return { cwd };
  return {
    refused: `workdir ${cwd} is outside the directory warden serves (${ctx.defaultCwd}) and its writable roots; under workspace-write it would become writable. Run from inside the project and name other paths in the command; nothing was ${nothing}.`,
  };
}

