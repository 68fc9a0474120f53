/**
 * Was a failed sandboxed run stopped by the sandbox, or did the command just fail? Pure. Follows the
 * Codex heuristic (CODEX-REFERENCE §8): never for an unsandboxed run, a success or a timeout; a denial
 * when the output mentions a permission/read-only/sandbox keyword; not for exit 2/126/127; a denial for
 * SIGSYS (exit 159). Two additions for what bwrap does that Codex's Landlock did not:
 * - a missing `.git`/`.warden` (or persistence name) is masked with /dev/null, so writes below it fail
 *   with ENOTDIR/EEXIST rather than EROFS, and an existing one is a mount point, so renaming over it
 *   fails with EBUSY: those count when the message names a protected path (protectedNameOf);
 * - the network is a separate namespace plus a seccomp filter, so with the network off "unreachable",
 *   "connection refused", DNS failures and an EPERM from connect/socket count as network denials.
 * - a hidden path (hiddenPaths.ts) fails with EACCES/EROFS/EBUSY: a line naming a path at or below a
 *   hidden one is a denial "access to a hidden path: P", whatever the exit code, so the person sees
 *   which secret the command reached for.
 * It also names what was denied, taken from the message when it can be ("write to a read-only path:
 * /etc/x"), for the "retry without the sandbox?" question. Its case table is test/unit/sandbox.denial.test.ts.
 */
import { isAbsolute, resolve } from 'node:path';
import type { SandboxType } from '../policy.ts';
import { protectedNameOf } from './writableRoots.ts';

export interface DenialInput {
  sandboxType: SandboxType;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Whether the run had the network; when not given, network failures count as denials. */
  network?: boolean;
  /** Paths masked as hidden for this run (canonical). */
  hidden?: readonly string[];
  /** The run's working directory, to resolve relative paths in messages. */
  cwd?: string;
}

export interface Denial {
  denied: boolean;
  what?: string;
}

const SIGSYS_EXIT = 128 + 31;
const ORDINARY_EXITS = new Set([2, 126, 127]);

interface Rule {
  test: RegExp;
  what: string;
  /** Only when the network was off. */
  network?: true;
  /** Only when the line names a protected path. */
  protectedOnly?: true;
}

// Order matters: the first rule whose pattern matches some line names the denial.
const RULES: Rule[] = [
  { test: /read-only file system|\berofs\b|errno 30\b/i, what: 'write to a read-only path' },
  { test: /not a directory|file exists|device or resource busy|\benotdir\b|\beexist\b|\bebusy\b/i, what: 'write to a protected path', protectedOnly: true },
  // The seccomp filter refuses connect() and non-Unix socket() with EPERM when the network is off.
  { test: /\b(connect|socket)\b.*(operation not permitted|\beperm\b)/i, what: 'network connection blocked', network: true },
  { test: /operation not permitted|\beperm\b/i, what: 'operation not permitted' },
  { test: /permission denied|\beacces\b/i, what: 'permission denied' },
  { test: /network is unreachable|\benetunreach\b/i, what: 'network connection blocked', network: true },
  { test: /connection refused|\beconnrefused\b/i, what: 'network connection blocked', network: true },
  {
    test: /temporary failure in name resolution|could not resolve host|name or service not known|\beai_again\b|getaddrinfo \w*(enotfound|eai_again)/i,
    what: 'network name resolution blocked',
    network: true,
  },
  { test: /seccomp|landlock|sandbox/i, what: 'blocked by the sandbox' },
  { test: /failed to write file/i, what: 'write blocked' },
];

/** A path through a protected entry (.git, .warden, a persistence name, any alias of one): masked read-only in every root. */
const namesProtected = (path: string) => path.split('/').some((c) => protectedNameOf(c) !== null);

/** The first path-looking thing a message line names, if any. */
export function extractPath(line: string): string | null {
  // Quoted: touch: cannot touch '/etc/x': ...; EROFS: read-only file system, open '/etc/x'
  const quoted = /['"‘`]([^'"’`\n]*\/[^'"’`\n]*|\.[^'"’`\n]+|[^'"’`\s\n]+\.[^'"’`\s\n]+)['"’`]/.exec(line);
  if (quoted?.[1]) return quoted[1];
  // dash: sh: 1: cannot create /etc/x: Read-only file system
  const create = /cannot (?:create|open|remove|touch|write)(?: directory| regular file)? ([^\s:]+):/i.exec(line);
  if (create?.[1]) return create[1];
  // bash: /etc/x: Read-only file system
  const colon = /(?:^|\s)((?:\/|\.{1,2}\/)[^\s:]*|\.(?:git|warden)[^\s:]*):/.exec(line);
  if (colon?.[1]) return colon[1];
  return null;
}

/** Every quoted string of a line, in order (`GIT~1` has neither a slash nor a dot). */
function quotedPaths(line: string): string[] {
  return [...line.matchAll(/['"‘`]([^'"’`\n]+)['"’`]/g)].map((m) => m[1]!);
}

const HIDDEN_ERRORS = /permission denied|\beacces\b|read-only file system|\berofs\b|device or resource busy|\bebusy\b|operation not permitted|\beperm\b|connection refused/i;

function hiddenPathIn(lines: string[], input: DenialInput): string | null {
  const hidden = input.hidden ?? [];
  if (hidden.length === 0) return null;
  const within = (p: string) => hidden.some((h) => p === h || p.startsWith(h.endsWith('/') ? h : `${h}/`));
  for (const line of lines) {
    if (!HIDDEN_ERRORS.test(line)) continue;
    // An absolute hidden path named in the line, spaces and all (`Application Support`): up to the
    // next colon or quote.
    for (const h of hidden) {
      const at = line.indexOf(h);
      if (at < 0) continue;
      const named = /^[^:'"’`\n]*/.exec(line.slice(at))![0].trimEnd();
      if (within(named)) return named;
    }
    // `cat: .netrc: Permission denied`: a relative name, resolved against cwd.
    const raw = extractPath(line) ?? /(?:^|\s)['"‘]?([^\s:'"’]+)['"’]?: (?:permission denied|read-only file system|device or resource busy)/i.exec(line)?.[1] ?? null;
    if (raw === null || input.cwd === undefined) continue;
    const path = isAbsolute(raw) ? resolve(raw) : resolve(input.cwd, raw);
    if (within(path)) return path;
  }
  return null;
}

export function detectDenial(input: DenialInput): Denial {
  if (input.sandboxType === 'none' || input.timedOut || input.exitCode === 0) return { denied: false };
  if (input.exitCode === null && input.signal === null) return { denied: false };
  const lines = `${input.stderr}\n${input.stdout}`.split('\n');
  const hidden = hiddenPathIn(lines, input);
  if (hidden !== null) return { denied: true, what: `access to a hidden path: ${hidden}` };
  for (const rule of RULES) {
    if (rule.network && input.network === true) continue;
    for (const line of lines) {
      if (!rule.test.test(line)) continue;
      // a rename names its temp file first (`rename 'x.tmp' -> '.envrc'`): any path of the line may be the protected one
      const path = rule.protectedOnly ? (quotedPaths(line).find(namesProtected) ?? extractPath(line)) : extractPath(line);
      if (rule.protectedOnly && (path === null || !namesProtected(path))) continue;
      if (rule.network) return { denied: true, what: rule.what };
      return { denied: true, what: path === null ? rule.what : `${rule.what}: ${path}` };
    }
  }
  if (input.exitCode !== null && ORDINARY_EXITS.has(input.exitCode)) return { denied: false };
  if (input.exitCode === SIGSYS_EXIT || input.signal === 'SIGSYS') {
    return { denied: true, what: 'a system call blocked by the sandbox (SIGSYS)' };
  }
  return { denied: false };
}
