/**
 * A memo of SQLite's quick_check of a store file, so a start-up does not read the whole file every
 * time: quick_check reads every page (about 4 ms per MB), and a hook is one warden process per tool
 * call, so a month's store of 50 MB made every tool call ~200 ms slower.
 *
 * The memo says: "this file, exactly as it is now, is what a warden process left when it closed it,
 * and that process's record descends from a quick_check at `checkedAt`". It matches only when the
 * store file and its `-wal` have the device, inode, size, modification and change times recorded at
 * that close (a change time cannot be set back: any write by anyone else since, a damaged page
 * written over, a restored copy, makes it differ), and only for QUICK_CHECK_MEMO_MS after the check
 * itself, so damage that changes no time (a failing disk) is still found within that long. The
 * chain-tail check runs at every start regardless. The file is in warden's state folder, which
 * every sandbox hides, and is read only as a private file of this user's (src/privateFiles.ts).
 * I/O: stats the store files, reads and writes the memo.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../privateFiles.ts';

/** How long after a real quick_check its memo lets starts skip it. */
export const QUICK_CHECK_MEMO_MS = 15 * 60_000;
const FORMAT = 'warden-quick-check-1';

/** What the memo compares: the store file's and its `-wal`'s stamps. */
export interface StoreStamps {
  db: string;
  wal: string;
}

/**
 * The stamps of the store at `storePath` now. Taken before the store is opened: opening creates an
 * empty `-wal` where the last close removed it.
 */
export function storeStamps(storePath: string): StoreStamps {
  return { db: stamp(storePath), wal: stamp(`${storePath}-wal`) };
}

export interface QuickCheckMemo {
  /** When the file as `seen` (storeStamps before opening) was last quick_checked (ms since the epoch), or null: check it now. */
  lastCheck(seen: StoreStamps, now?: number): number | null;
  /** Records the file as it is now (after this process closed it) as descending from a check at `checkedAt`. */
  record(checkedAt: number): void;
}

/** The identity and times of `path`, or '-' when there is none. */
function stamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
  } catch {
    return '-';
  }
}

/** The memo for the store file `storePath` (its real path) in the folder `dir`. */
export function quickCheckMemo(dir: string, storePath: string): QuickCheckMemo {
  const file = join(dir, `${createHash('sha256').update(storePath).digest('hex').slice(0, 32)}.json`);
  return {
    lastCheck(seen, now = Date.now()) {
      const text = readPrivateFile(file, 4096)?.toString('utf8');
      if (text === undefined) return null;
      try {
        const memo = JSON.parse(text) as { format?: unknown; store?: unknown; db?: unknown; wal?: unknown; checkedAt?: unknown };
        if (memo.format !== FORMAT || memo.store !== storePath || memo.db !== seen.db || memo.wal !== seen.wal) return null;
        if (typeof memo.checkedAt !== 'number' || !(memo.checkedAt <= now) || now - memo.checkedAt >= QUICK_CHECK_MEMO_MS) return null;
        return memo.checkedAt;
      } catch {
        return null;
      }
    },
    record(checkedAt) {
      writePrivateFile(file, JSON.stringify({ format: FORMAT, store: storePath, ...storeStamps(storePath), checkedAt }));
    },
  };
}
