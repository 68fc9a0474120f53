/**
 * src/sandbox: running a command bare or inside the OS sandbox (bubblewrap on Linux, Seatbelt on
 * macOS), and telling sandbox denials from ordinary failures. The request runtime's executor uses
 * these three entry points. What it may import: README.md here (checked by test/unit/architecture.test.ts).
 */
export { runCommand, DEFAULT_OUTPUT_CAP_BYTES, type RunOptions } from './runCommand.ts';
export { platformSandbox, sandboxUnavailableReason, sandboxDetection } from './platform.ts';
export { detectDenial, type Denial, type DenialInput } from './denial.ts';
export type { RunResult, CommandRun, SandboxSpec } from './types.ts';
