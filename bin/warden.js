#!/usr/bin/env node
// The CLI is compiled JavaScript in dist/ (`npm run build`, run by `prepare` on `npm ci`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('warden: dist/ is missing: run `npm run build` in the warden checkout first\n');
  process.exit(2);
}
await import(main.href);
