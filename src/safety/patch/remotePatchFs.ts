/**
 * A PatchFs whose calls are made by the native helper native/warden-apply.c, inside the sandbox, over
 * its stdin and stdout (the framing is described there): each call is one request, answered in
 * order, so calls made at once (applyPatch's parallel unlinks) are simply queued. A failure comes
 * back as the errno of the call and is turned into node's own error for it (same code, message and
 * syscall as nodePatchFs would give). Once the helper's output ends (it died, was killed on a
 * timeout, or the sandbox never started it) every pending and later call fails, and so it does
 * once an answer is not the shape its request has: the helper runs where the agent's commands run,
 * so its output is checked as anything from the sandbox is, never trusted to be ours. Does I/O.
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { PathStat, PatchFs } from './patchFs.ts';

/** The operation codes of native/warden-apply.c. */
const Op = { Lstat: 1, Stat: 2, Read: 3, Readlink: 4, Mkdirp: 5, WriteNew: 6, Rename: 7, Unlink: 8, Rmdir: 9, Readdir: 10, Symlink: 11, SyncDir: 12 } as const;
type Op = (typeof Op)[keyof typeof Op];

const KINDS: readonly PathStat['kind'][] = ['file', 'directory', 'symlink', 'other'];

const { EINVAL, EFBIG } = constants.errno;

/** The helper's MAX_FRAME: no request or answer is longer. */
export const MAX_FRAME = 2 ** 30;

/**
 * The fields a successful answer to each op has (null: any number, READDIR's names), and the size
 * of each where it is fixed. Anything else is not the helper's answer to that request.
 */
const ANSWER_SHAPE: Record<Op, { count: number | null; size?: number }> = {
  [Op.Lstat]: { count: 1, size: 16 },
  [Op.Stat]: { count: 1, size: 16 },
  [Op.Read]: { count: 1 },
  [Op.Readlink]: { count: 1 },
  [Op.Mkdirp]: { count: 1 },
  [Op.WriteNew]: { count: 0 },
  [Op.Rename]: { count: 0 },
  [Op.Unlink]: { count: 0 },
  [Op.Rmdir]: { count: 0 },
  [Op.Readdir]: { count: null },
  [Op.Symlink]: { count: 0 },
  [Op.SyncDir]: { count: 0 },
};
/** A failure's one field: the name of the call (it goes into the message the agent reads). */
const CALL_NAME = /^[a-z]{1,16}$/;

interface Pending {
  op: Op;
  resolve(fields: Buffer[]): void;
  reject(error: Error): void;
  /** For the error's message: the paths of the call. */
  paths: string[];
}

export interface RemotePatchFs extends PatchFs {
  /** Ends the helper's input: it exits once it has answered everything asked. */
  close(): void;
}

/** A little-endian u32, the protocol's lengths. */
export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** One frame: its length, then `head` (a request's op byte, an answer's i32 status), then each field with its length. */
export function frameOf(head: Buffer, fields: readonly Buffer[]): Buffer {
  const body = [head, ...fields.flatMap((f) => [u32(f.length), f])];
  return Buffer.concat([u32(body.reduce((n, b) => n + b.length, 0)), ...body]);
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
    // After a malformed answer nothing more from this helper is read as an answer.
    if (ended !== null) return;
    chunks.push(chunk);
    have += chunk.length;
    while (have >= 4 && ended === null) {
      const len = peekLength();
      // judged by its length before waiting for its bytes: a helper saying 4 GiB is not buffered
      if (len < 4 || len > MAX_FRAME) return malformed(`an answer of ${len} bytes`);
      if (have < 4 + len) return;
      take(4);
      answer(take(len));
    }
  });
  output.on('end', () => end('its output closed'));
  output.on('close', () => end('its output closed'));
  output.on('error', (e: Error) => end(e.message));
  input.on('error', (e: Error) => end(e.message));

  /**
   * The helper's output is not its protocol (it is not the helper warden built, or it is broken):
   * every call, this one and all later ones, fails, and nothing of that output is believed or shown.
   */
  function malformed(what: string): void {
    chunks = [];
    have = 0;
    end(`a malformed answer: ${what}`);
  }

  function answer(frame: Buffer): void {
    const p = queue.shift();
    if (p === undefined) return end('an answer nobody asked for');
    const status = frame.readInt32LE(0);
    const fields: Buffer[] = [];
    for (let at = 4; at < frame.length; ) {
      if (frame.length - at < 4) return malformedFor(p, 'a field length cut short');
      const n = frame.readUInt32LE(at);
      if (n > frame.length - at - 4) return malformedFor(p, 'a field running past the answer');
      fields.push(frame.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (status !== 0) {
      const call = fields.length === 1 ? fields[0]!.toString('latin1') : '';
      if (status < 0 || !CALL_NAME.test(call)) return malformedFor(p, `a failure (status ${status}) without the name of its call`);
      return p.reject(systemError(status, call, p.paths));
    }
    const shape = ANSWER_SHAPE[p.op];
    if ((shape.count !== null && fields.length !== shape.count) || (shape.size !== undefined && fields.some((f) => f.length !== shape.size))) {
      return malformedFor(p, `${fields.length} fields for operation ${p.op}`);
    }
    p.resolve(fields);
  }

  function malformedFor(p: Pending, what: string): void {
    queue.unshift(p);
    malformed(what);
  }

  function call(op: Op, paths: string[], extra: Buffer[] = []): Promise<Buffer[]> {
    if (ended !== null) return Promise.reject(ended);
    const fields = [...paths.map((p) => Buffer.from(p, 'utf8')), ...extra];
    // A lone surrogate would reach the helper as U+FFFD: a path other than the one judged.
    if (paths.some((p, i) => fields[i]!.toString('utf8') !== p)) return Promise.reject(systemError(EINVAL, 'path', paths));
    const len = 1 + fields.reduce((n, f) => n + 4 + f.length, 0);
    // Refused here, not by the helper, which would end at it (bad length) and leave the temp
    // files already written with nobody to remove them.
    if (len > MAX_FRAME) return Promise.reject(systemError(EFBIG, op === Op.WriteNew ? 'write' : 'path', paths));
    return new Promise((resolve, reject) => {
      queue.push({ op, resolve, reject, paths });
      input.write(frameOf(Buffer.from([op]), fields));
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
