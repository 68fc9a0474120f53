/** Runs every case table that sits beside a program rule in src/safety/programs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSafeGit, isDangerousGit } from '../../src/safety/programs/git.ts';
import { GIT_CASES } from '../../src/safety/programs/git.cases.ts';
import { isSafeFind } from '../../src/safety/programs/find.ts';
import { FIND_CASES } from '../../src/safety/programs/find.cases.ts';
import { isSafeRg } from '../../src/safety/programs/rg.ts';
import { RG_CASES } from '../../src/safety/programs/rg.cases.ts';
import { isSafeSed } from '../../src/safety/programs/sed.ts';
import { SED_CASES } from '../../src/safety/programs/sed.cases.ts';
import { isSafeBase64 } from '../../src/safety/programs/base64.ts';
import { BASE64_CASES } from '../../src/safety/programs/base64.cases.ts';
import { isDangerousRm } from '../../src/safety/programs/rm.ts';
import { RM_CASES } from '../../src/safety/programs/rm.cases.ts';
import { isSafeUniq, isUnconditionallySafe } from '../../src/safety/programs/safeList.ts';
import { UNIQ_CASES, UNCONDITIONAL_CASES } from '../../src/safety/programs/safeList.cases.ts';
import { isTrustedProgramPath, programName } from '../../src/safety/programs/programPath.ts';
import { PROGRAM_PATH_CASES } from '../../src/safety/programs/programPath.cases.ts';
import { WRAPPER_CASES } from '../../src/safety/programs/wrappers.cases.ts';
import { isDangerousCommand, isKnownSafeCommand } from '../../src/safety/classifyExec.ts';
import { initShellParser } from '../../src/safety/shellParse.ts';

test('git: read-only and dangerous tables', () => {
  for (const c of GIT_CASES) {
    assert.equal(isSafeGit(c.argv), c.safe, `safe ${JSON.stringify(c.argv)}: ${c.why}`);
    assert.equal(isDangerousGit(c.argv), c.dangerous, `dangerous ${JSON.stringify(c.argv)}: ${c.why}`);
  }
});

test('find, rg, base64, uniq: argument tables', () => {
  for (const c of FIND_CASES) assert.equal(isSafeFind(c.args), c.safe, `find ${JSON.stringify(c.args)}: ${c.why}`);
  for (const c of RG_CASES) assert.equal(isSafeRg(c.args), c.safe, `rg ${JSON.stringify(c.args)}: ${c.why}`);
  for (const c of BASE64_CASES) assert.equal(isSafeBase64(c.args), c.safe, `base64 ${JSON.stringify(c.args)}: ${c.why}`);
  for (const c of UNIQ_CASES) assert.equal(isSafeUniq(c.args), c.safe, `uniq ${JSON.stringify(c.args)}: ${c.why}`);
});

test('sed: only -n N[,M]p [FILE]', () => {
  for (const c of SED_CASES) assert.equal(isSafeSed(c.argv), c.safe, `${JSON.stringify(c.argv)}: ${c.why}`);
});

test('rm: recursive or force in any form is dangerous', () => {
  for (const c of RM_CASES) assert.equal(isDangerousRm(c.args), c.dangerous, `rm ${JSON.stringify(c.args)}: ${c.why}`);
});

test('unconditional list honours the platform', () => {
  for (const c of UNCONDITIONAL_CASES) {
    assert.equal(isUnconditionallySafe(c.name, c.platform), c.safe, `${c.name} on ${c.platform}`);
  }
});

test('program paths: only bare names and canonical system dirs are trusted', () => {
  for (const c of PROGRAM_PATH_CASES) {
    assert.equal(isTrustedProgramPath(c.argv0), c.trusted, c.argv0);
    assert.equal(programName(c.argv0), c.name, c.argv0);
  }
});

test('wrappers are judged by what they run, and are never known-safe', async () => {
  await initShellParser();
  for (const c of WRAPPER_CASES) {
    assert.equal(isDangerousCommand(c.argv), c.dangerous, `${JSON.stringify(c.argv)}: ${c.why}`);
    assert.equal(isKnownSafeCommand(c.argv), false, `${JSON.stringify(c.argv)} must not be known-safe`);
  }
});
