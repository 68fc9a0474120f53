/**
 * `warden --version` and `-V` print package.json's version and exit 0; answered by bin/warden.js
 * before the CLI loads (start-up, issue #14), so the answer must stay the one commander gives
 * when the flag comes with anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, warden } from '../support/cli.ts';

const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

test('--version and -V print the package version, alone or through commander', () => {
  for (const args of [['--version'], ['-V'], ['--version', '--version']]) {
    const r = warden(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, `${version}\n`, args.join(' '));
    assert.equal(r.stderr, '');
  }
});
