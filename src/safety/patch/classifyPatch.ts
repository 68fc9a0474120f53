/**
 * Patch safety (CODEX-REFERENCE §5d, DESIGN.md "Patches"): decides whether an apply_patch request
 * is auto-approved (and in which sandbox), asked about, or rejected. Reads the file system only to
 * resolve symlinks and `.git` files (see writablePaths.ts); never writes, never throws.
 *
 * Order of the rules, each with the case it exists for:
 * 1. unparsable or empty → reject (nothing sensible to apply or to show a person);
 * 2. identical patch approved for this session → auto-approve (the person already said yes);
 * 3. `untrusted` → ask (every write needs a person);
 * 4. every path and move destination writable (inside a root, outside `.git`/`.warden`) or policy
 *    `on-failure` → auto-approve in the platform sandbox (bare under danger-full-access); with no
 *    platform sandbox → ask, since the sandbox is what makes the auto-approval safe;
 * 5. `never` → reject; anything else → ask.
 */
import path from 'node:path';
import type { PatchFile } from '../../events/types.ts';
import type { SandboxType } from '../../policy.ts';
import type { Classification, PatchClassificationInput } from '../types.ts';
import { tryParsePatch, type ParsedPatch } from './parsePatch.ts';
import { canonicalPath, hiddenRoots, judgePath, patchRoots } from './writablePaths.ts';

const NEVER_REASON = 'writing outside of the project; rejected by user approval settings';

function verdict(
  outcome: Classification['outcome'],
  sandbox: SandboxType,
  reason: string,
  files: PatchFile[],
  extra: Partial<Classification> = {},
): Classification {
  return { outcome, sandbox, knownSafe: false, dangerous: false, commands: null, reason, files, ...extra };
}

/** Every file the patch touches, as absolute lexically-normalised paths (`..` resolved against cwd). Pure. */
export function patchFiles(patch: ParsedPatch, cwd: string): PatchFile[] {
  return patch.hunks.map((h) => {
    const file: PatchFile = { path: path.resolve(cwd, h.path), kind: h.kind };
    if (h.kind === 'update' && h.moveTo !== undefined) file.moveTo = path.resolve(cwd, h.moveTo);
    return file;
  });
}

/**
 * The first reason the patch is not confined to writable paths, or null when it is. Does I/O.
 * Exported for the table tests beside it.
 */
export function unconstrainedReason(files: PatchFile[], input: PatchClassificationInput): string | null {
  const { policy, cwd } = input;
  if (policy.sandbox === 'read-only') return 'the read-only sandbox has no writable roots';
  const { roots, gitdirs, homes } = patchRoots(policy, cwd);
  const hidden = roots === 'all' ? [] : hiddenRoots(policy.hidden, [cwd, ...policy.writableRoots]);
  // What the patch itself creates counts toward a git directory (HEAD + objects/ + refs/ planted at once).
  const created = new Set<string>();
  for (const f of files) {
    const dest = f.kind === 'add' ? f.path : f.moveTo;
    const c = dest === undefined ? null : canonicalPath(dest);
    if (c !== null) created.add(c);
  }
  for (const f of files) {
    for (const p of f.moveTo === undefined ? [f.path] : [f.path, f.moveTo]) {
      const v = judgePath(p, roots, gitdirs, hidden, created, homes);
      if (!v.writable) return v.why;
    }
  }
  return null;
}

/** Classifies one apply_patch request. Does I/O (symlink resolution); never throws. */
export function classifyPatch(input: PatchClassificationInput): Classification {
  try {
    return classify(input);
  } catch (error) {
    // A bug here must not approve anything.
    return verdict('reject', 'none', `internal error while classifying the patch: ${String(error)}`, []);
  }
}

function classify(input: PatchClassificationInput): Classification {
  const { policy, platformSandbox } = input;
  const bare = policy.sandbox === 'danger-full-access';
  const runSandbox: SandboxType = bare ? 'none' : platformSandbox;

  if (typeof input.cwd !== 'string' || !path.isAbsolute(input.cwd) || input.cwd.includes('\0')) {
    return verdict('reject', runSandbox, `working directory must be an absolute path, got ${JSON.stringify(input.cwd)}`, []);
  }
  const parsed = tryParsePatch(input.patch);
  if (!parsed.ok) return verdict('reject', runSandbox, `invalid patch: ${parsed.error.message}`, []);
  if (parsed.patch.hunks.length === 0) return verdict('reject', runSandbox, 'empty patch', []);

  const files = patchFiles(parsed.patch, input.cwd);
  const why = unconstrainedReason(files, input);

  if (input.approvedForSession) {
    // The person approved these exact paths; a write they allowed outside the roots would only
    // fail inside the sandbox, so such a patch runs bare. A confined one keeps its sandbox.
    const sandbox: SandboxType = why === null ? runSandbox : 'none';
    return verdict('auto-approve', sandbox, 'identical patch approved for this session', files, {
      decisionSource: 'session-cache',
    });
  }
  if (policy.approval === 'untrusted') {
    return verdict('ask', runSandbox, 'approval policy untrusted: every patch needs approval', files, {
      askReason: 'patch',
    });
  }
  if (why === null || policy.approval === 'on-failure') {
    const reason = bare
      ? 'danger-full-access: every path is writable, applied without a sandbox'
      : why === null
        ? 'every path is inside a writable root'
        : `on-failure: applied in the sandbox, a denial escalates (${why})`;
    if (!bare && platformSandbox === 'none') {
      // Same as commands (DESIGN.md step 4): without a sandbox `never` cannot ask, so it rejects.
      if (policy.approval === 'never') {
        return verdict('reject', 'none', `${reason}, but no platform sandbox is available`, files, {
          decisionSource: 'policy',
        });
      }
      return verdict('ask', 'none', `${reason}, but no platform sandbox is available`, files, {
        askReason: 'no-sandbox',
      });
    }
    return verdict('auto-approve', runSandbox, reason, files, { decisionSource: 'policy' });
  }
  if (policy.approval === 'never') {
    return verdict('reject', runSandbox, `${NEVER_REASON}: ${why}`, files, { decisionSource: 'policy' });
  }
  return verdict('ask', runSandbox, `patch writes outside the writable roots: ${why}`, files, { askReason: 'patch' });
}
