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
export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
export const isSandboxUnavailableError = (e: unknown): e is SandboxUnavailableError =>
  e instanceof SandboxUnavailableError;
