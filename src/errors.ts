/**
 * Exceptions are for broken infrastructure and bugs; verdicts (ask, reject, deny) are values.
 * Each error has a stable `code` and an `isXxxError` guard so callers never match on messages.
 */
export class WardenError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A stale expectedVersion: someone else appended to the stream first. Nothing was written. */
export class ExpectedVersionConflictError extends WardenError {
  constructor(
    readonly stream: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('EXPECTED_VERSION_CONFLICT', `stream ${stream}: expected version ${expected}, found ${actual}`);
  }
}

/** The store file or database is not a warden store, is corrupt, or is from a newer warden. */
export class StoreError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
  }
}

/**
 * The store file was deleted or replaced while this process had it open. SQLite would go on writing
 * to the unlinked file, which nobody reads: every later record would be lost. Everything after this
 * fails: no append (so no run, since every run is announced by an append), no read.
 */
export class StoreLostError extends StoreError {}

/** A user-supplied file or flag (rules, config, arguments) does not parse. */
export class ConfigError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

/** The sandbox cannot be set up here (missing bubblewrap, unsupported OS). */
export class SandboxUnavailableError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SANDBOX_UNAVAILABLE', message, options);
  }
}

export const isExpectedVersionConflictError = (e: unknown): e is ExpectedVersionConflictError =>
  e instanceof ExpectedVersionConflictError;
export const isStoreError = (e: unknown): e is StoreError => e instanceof StoreError;
export const isStoreLostError = (e: unknown): e is StoreLostError => e instanceof StoreLostError;
export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
export const isSandboxUnavailableError = (e: unknown): e is SandboxUnavailableError =>
  e instanceof SandboxUnavailableError;

/** The message of anything thrown (a non-Error is turned into text): the one way warden words a failure's cause. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
