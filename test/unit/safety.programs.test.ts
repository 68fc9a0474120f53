/** Runs every case table that sits beside a program rule in src/safety/programs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSafeGit, isDangerousGit } from '../../src/safety/programs/git.ts';
import { GIT_CASES } from '../../src/safety/programs/git.cases.ts';
import { checkFind } from '../../src/safety/programs/find.ts';
import { FIND_CASES } from '../../src/safety/programs/find.cases.ts';
import { checkRg } from '../../src/safety/programs/rg.ts';
import { RG_CASES } from '../../src/safety/programs/rg.cases.ts';
import { isSafeSed } from '../../src/safety/programs/sed.ts';
import { SED_CASES } from '../../src/safety/programs/sed.cases.ts';
import { checkBase64 } from '../../src/safety/programs/base64.ts';
import { BASE64_CASES } from '../../src/safety/programs/base64.cases.ts';
import { checkSort } from '../../src/safety/programs/sort.ts';
import { SORT_CASES } from '../../src/safety/programs/sort.cases.ts';
import { checkFile } from '../../src/safety/programs/file.ts';
import { FILE_CASES } from '../../src/safety/programs/file.cases.ts';
import { checkUniq } from '../../src/safety/programs/uniq.ts';
import { UNIQ_CASES } from '../../src/safety/programs/uniq.cases.ts';
import { COREUTILS_CASES } from '../../src/safety/programs/coreutils.cases.ts';
import { isDangerousRm } from '../../src/safety/programs/rm.ts';
import { RM_CASES } from '../../src/safety/programs/rm.cases.ts';
import { isTrustedProgramPath, programName } from '../../src/safety/programs/programPath.ts';
import { PROGRAM_PATH_CASES } from '../../src/safety/programs/programPath.cases.ts';
import { WRAPPER_CASES } from '../../src/safety/programs/wrappers.cases.ts';
import { isDangerousCommand, isKnownSafeCommand } from '../../src/safety/classifyExec.ts';
import { checkProgram } from '../../src/safety/knownSafe.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';

await loadShellGrammar();

test('git: read-only and dangerous tables', () => {
  for (const c of GIT_CASES) {
    assert.equal(isSafeGit(c.argv), c.safe, `safe ${JSON.stringify(c.argv)}: ${c.why}`);
    assert.equal(isDangerousGit(c.argv), c.dangerous, `dangerous ${JSON.stringify(c.argv)}: ${c.why}`);
  }
});

test('find, rg, base64, uniq, sort, file: argument tables', () => {
  const tables: Array<[string, Array<{ args: string[]; safe: boolean; why: string }>, (a: string[]) => { safe: boolean }]> = [
    ['find', FIND_CASES, checkFind], ['rg', RG_CASES, checkRg], ['base64', BASE64_CASES, checkBase64],
    ['uniq', UNIQ_CASES, checkUniq], ['sort', SORT_CASES, checkSort], ['file', FILE_CASES, checkFile],
  ];
  for (const [name, cases, check] of tables) {
    for (const c of cases) {
      assert.equal(check(c.args).safe, c.safe, `${name} ${JSON.stringify(c.args)}: ${c.why}`);
      // the same verdict through the dispatcher
      assert.equal(checkProgram([name, ...c.args]).safe, c.safe, `dispatch ${name} ${JSON.stringify(c.args)}`);
    }
  }
});

test('coreutils: every word must be in the table', () => {
  for (const c of COREUTILS_CASES) assert.equal(checkProgram(c.argv, 'none', { platform: 'linux' }).safe, c.safe, `${JSON.stringify(c.argv)}: ${c.why}`);
});

test('a not-known-safe verdict names the deciding word', () => {
  const v = checkProgram(['sort', '-o', 'out', 'f']);
  assert.equal(v.safe, false);
  assert.ok(!v.safe && v.word === '-o' && /writes a file/.test(v.why), JSON.stringify(v));
  const g = checkProgram(['git', '--shallow-file', 'x', 'status']);
  assert.ok(!g.safe && g.word === '--shallow-file', JSON.stringify(g));
});

test('sed: only -n N[,M]p [FILE]', () => {
  for (const c of SED_CASES) assert.equal(isSafeSed(c.argv), c.safe, `${JSON.stringify(c.argv)}: ${c.why}`);
});

test('rm: recursive or force in any form is dangerous', () => {
  for (const c of RM_CASES) assert.equal(isDangerousRm(c.args), c.dangerous, `rm ${JSON.stringify(c.args)}: ${c.why}`);
});

test('linux-only tools honour the platform', () => {
  assert.equal(checkProgram(['numfmt', '1000'], 'none', { platform: 'linux' }).safe, true);
  assert.equal(checkProgram(['numfmt', '1000'], 'none', { platform: 'darwin' }).safe, false);
  assert.equal(checkProgram(['tac', 'f'], 'none', { platform: 'win32' }).safe, false);
  for (const name of ['less', 'more', 'tee', 'env', 'xargs', 'LS']) assert.equal(checkProgram([name]).safe, false, name);
});

test('program paths: only bare names and canonical system dirs are trusted', () => {
  for (const c of PROGRAM_PATH_CASES) {
    assert.equal(isTrustedProgramPath(c.argv0), c.trusted, c.argv0);
    assert.equal(programName(c.argv0), c.name, c.argv0);
  }
});

test('wrappers are judged by what they run, and are never known-safe', () => {
  for (const c of WRAPPER_CASES) {
    assert.equal(isDangerousCommand(c.argv), c.dangerous, `${JSON.stringify(c.argv)}: ${c.why}`);
    assert.equal(isKnownSafeCommand(c.argv), false, `${JSON.stringify(c.argv)} must not be known-safe`);
  }
});
