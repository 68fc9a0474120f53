/**
 * A PatchFs whose calls are made by the native helper native/warden-apply.c, inside the sandbox, over
 * its stdin and stdout (the framing is described there): each call is one request, answered in
 * order, so calls made at once (applyPatch's parallel unlinks) are simply queued. A failure comes
 * back as the errno of the call and is turned into node's own error for it (same code, message and
 * syscall as nodePatchFs would give). Once the helper's output ends (it died, was killed on a
 * timeout, or the sandbox never started it) every pending and later call fails. Does I/O.
 */
import { getSystemErrorMap } from 'node:util';
import type { PathStat, PatchFs } from './patchFs.ts';

/** The operation codes of native/warden-apply.c. */
const Op = { Lstat: 1, Stat: 2, Read: 3, Readlink: 4, Mkdirp: 5, WriteNew: 6, Rename: 7, Unlink: 8, Rmdir: 9, Readdir: 10, Symlink: 11, SyncDir: 12 } as const;
type Op = (typeof Op)[keyof typeof Op];

const KINDS: readonly PathStat['kind'][] = ['file', 'directory', 'symlink', 'other'];

interface Pending {
  resolve(fields: Buffer[]): void;
  reject(error: Error): void;
  /** For the error's message: the paths of the call. */
  paths: string[];
}

export interface RemotePatchFs extends PatchFs {
  /** Ends the helper's input: it exits once it has answered everything asked. */
  close(): void;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function i64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt(n), 0);
  return b;
}

/** node's error for a failed call: `ENOENT: no such file or directory, lstat '/x'`. */
export function systemError(errno: number, syscall: string, paths: readonly string[]): NodeJS.ErrnoException {
  const [code, message] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, `error ${errno}`];
  const where = paths.map((p) => `'${p}'`).join(' -> ');
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}, ${syscall}${where === '' ? '' : ` ${where}`}`);
  error.errno = -errno;
  error.code = code;
  error.syscall = syscall;
  if (paths[0] !== undefined) error.path = paths[0];
  if (paths[1] !== undefined) (error as NodeJS.ErrnoException & { dest?: string }).dest = paths[1];
  return error;
}

/** Talks with the helper whose stdin is `input` and stdout `output`. */
export function remotePatchFs(input: NodeJS.WritableStream, output: NodeJS.ReadableStream): RemotePatchFs {
  const queue: Pending[] = [];
  let ended: Error | null = null;
  // What has come in and not been parsed yet, kept as chunks: one concat per answer, so reading a
  // large file costs linear time, not a copy per chunk.
  let chunks: Buffer[] = [];
  let have = 0;

  const end = (why: string) => {
    if (ended !== null) return;
    ended = Object.assign(new Error(`the patch applier ended before answering (${why})`), { code: 'EPIPE' });
    for (const p of queue.splice(0)) p.reject(ended);
  };
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
    chunks = all.length > n ? [all.subarray(n)] : [];
    have -= n;
    return all.subarray(0, n);
  };
  const peekLength = (): number => {
    const head = chunks.length === 1 || chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks, have);
    return head.readUInt32LE(0);
  };
  output.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= 4) {
      const len = peekLength();
      if (have < 4 + len) return;
      take(4);
      answer(take(len));
    }
  });
  output.on('end', () => end('its output closed'));
  output.on('close', () => end('its output closed'));
  output.on('error', (e: Error) => end(e.message));
  input.on('error', (e: Error) => end(e.message));

  function answer(frame: Buffer): void {
    const p = queue.shift();
    if (p === undefined) return end('an answer nobody asked for');
    const status = frame.readInt32LE(0);
    const fields: Buffer[] = [];
    for (let at = 4; at < frame.length; ) {
      const n = frame.readUInt32LE(at);
      fields.push(frame.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (status === 0) p.resolve(fields);
    else p.reject(systemError(status, fields[0]?.toString('utf8') ?? 'unknown', p.paths));
  }

  function call(op: Op, paths: string[], extra: Buffer[] = []): Promise<Buffer[]> {
    if (ended !== null) return Promise.reject(ended);
    const fields = [...paths.map((p) => Buffer.from(p, 'utf8')), ...extra];
    const body = [Buffer.from([op]), ...fields.flatMap((f) => [u32(f.length), f])];
    const len = body.reduce((n, b) => n + b.length, 0);
    return new Promise((resolve, reject) => {
      queue.push({ resolve, reject, paths });
      input.write(Buffer.concat([u32(len), ...body]));
    });
  }

  const statOf = (f: Buffer[]): PathStat => {
    const b = f[0]!;
    return { kind: KINDS[b.readUInt32LE(0)] ?? 'other', mode: b.readUInt32LE(4), uid: b.readUInt32LE(8), gid: b.readUInt32LE(12) };
  };
  const none = async (p: Promise<Buffer[]>): Promise<void> => {
    await p;
  };

  return {
    lstat: async (p) => statOf(await call(Op.Lstat, [p])),
    stat: async (p) => statOf(await call(Op.Stat, [p])),
    // a copy: the answer's bytes are a view of a buffer the next answers share
    readFile: async (p) => Buffer.from((await call(Op.Read, [p]))[0]!),
    readlink: async (p) => (await call(Op.Readlink, [p]))[0]!.toString('utf8'),
    mkdirp: async (p) => {
      const made = (await call(Op.Mkdirp, [p]))[0]!.toString('utf8');
      return made === '' ? undefined : made;
    },
    writeNew: (p, content, mode, owner) =>
      none(call(Op.WriteNew, [p], [typeof content === 'string' ? Buffer.from(content, 'utf8') : content, i64(mode ?? -1), i64(owner?.uid ?? -1), i64(owner?.gid ?? -1)])),
    rename: (a, b) => none(call(Op.Rename, [a, b])),
    unlink: (p) => none(call(Op.Unlink, [p])),
    rmdir: (p) => none(call(Op.Rmdir, [p])),
    readdir: async (p) => (await call(Op.Readdir, [p])).map((f) => f.toString('utf8')),
    // the helper takes the link's text first, like symlink(2)
    symlink: (target, p) => none(call(Op.Symlink, [target, p])),
    syncDir: (p) => none(call(Op.SyncDir, [p])),
    close: () => input.end(),
  };
}
