export { isKnownSafeCommand } from './knownSafe.ts';
export { isDangerousCommand } from './dangerous.ts';
