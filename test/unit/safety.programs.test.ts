/**
 * Runs every case table that sits beside a program rule in src/safety/programs: one named test per
 * row, so a failure names the row (and the rows after it still run).
 */
import { describe, test } from 'node:test';
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
import { PATH_LOOKUP_CASES, PROGRAM_PATH_CASES } from '../../src/safety/programs/programPath.cases.ts';
import { locatorFor, searchPathFor } from '../../src/sandbox/commandPath.ts';
import { SHELL_STARTUP_CASES } from '../../src/safety/programs/shellStartup.cases.ts';
import { withoutShellStartup } from '../../src/safety/programs/shellStartup.ts';
import { WRAPPER_CASES } from '../../src/safety/programs/wrappers.cases.ts';
import { RISKY_RULE_CASES } from '../../src/safety/programs/riskyOptions.cases.ts';
import { uncoveredWord, type PrefixRule } from '../../src/safety/ruleMatch.ts';
import { isDangerousCommand, isKnownSafeCommand } from '../../src/safety/classifyExec.ts';
import { checkKnownSafe, checkProgram } from '../../src/safety/knownSafe.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';

await loadShellGrammar();

const row = (words: readonly string[], why: string) => `${JSON.stringify(words)}: ${why}`;

describe('git: read-only and dangerous tables', () => {
  for (const c of GIT_CASES) {
    test(row(c.argv, c.why), () => {
      assert.equal(isSafeGit(c.argv), c.safe, 'safe');
      assert.equal(isDangerousGit(c.argv), c.dangerous, 'dangerous');
    });
  }
});

describe('find, rg, base64, uniq, sort, file: argument tables', () => {
  const tables: Array<[string, Array<{ args: string[]; safe: boolean; why: string }>, (a: string[]) => { safe: boolean }]> = [
    ['find', FIND_CASES, checkFind], ['rg', RG_CASES, checkRg], ['base64', BASE64_CASES, checkBase64],
    ['uniq', UNIQ_CASES, checkUniq], ['sort', SORT_CASES, checkSort], ['file', FILE_CASES, checkFile],
  ];
  for (const [name, cases, check] of tables) {
    for (const c of cases) {
      test(row([name, ...c.args], c.why), () => {
        assert.equal(check(c.args).safe, c.safe, name);
        // the same verdict through the dispatcher
        assert.equal(checkProgram([name, ...c.args]).safe, c.safe, 'through the dispatcher');
      });
    }
  }
});

describe('coreutils: every word must be in the table', () => {
  for (const c of COREUTILS_CASES) test(row(c.argv, c.why), () => assert.equal(checkProgram(c.argv, 'none', { platform: 'linux' }).safe, c.safe));
});

test('a not-known-safe verdict names the deciding word', () => {
  const v = checkProgram(['sort', '-o', 'out', 'f']);
  assert.equal(v.safe, false);
  assert.ok(!v.safe && v.word === '-o' && /writes a file/.test(v.why), JSON.stringify(v));
  const g = checkProgram(['git', '--shallow-file', 'x', 'status']);
  assert.ok(!g.safe && g.word === '--shallow-file', JSON.stringify(g));
});

describe('sed: only -n N[,M]p [FILE]', () => {
  for (const c of SED_CASES) test(row(c.argv, c.why), () => assert.equal(isSafeSed(c.argv), c.safe));
});

describe('rm: recursive or force in any form is dangerous', () => {
  for (const c of RM_CASES) test(row(['rm', ...c.args], c.why), () => assert.equal(isDangerousRm(c.args), c.dangerous));
});

test('linux-only tools honour the platform', () => {
  assert.equal(checkProgram(['numfmt', '1000'], 'none', { platform: 'linux' }).safe, true);
  assert.equal(checkProgram(['numfmt', '1000'], 'none', { platform: 'darwin' }).safe, false);
  assert.equal(checkProgram(['tac', 'f'], 'none', { platform: 'win32' }).safe, false);
  for (const name of ['less', 'more', 'tee', 'env', 'xargs', 'LS']) assert.equal(checkProgram([name]).safe, false, name);
});

describe('program paths: only bare names and canonical system dirs are trusted', () => {
  for (const c of PROGRAM_PATH_CASES) {
    test(JSON.stringify(c.argv0), () => {
      assert.equal(isTrustedProgramPath(c.argv0), c.trusted, 'trusted');
      assert.equal(programName(c.argv0), c.name, 'name');
    });
  }
});

describe('a bare name is trusted only where the PATH the command gets finds it in a system directory', () => {
  for (const c of PATH_LOOKUP_CASES) {
    test(`${c.attack}: PATH=${c.path} ${c.argv0}`, () => {
      // a pretend disk: the listed files, and symlinked entries resolved by prefix
      const canonical = (p: string) => {
        for (const [from, to] of Object.entries(c.links ?? {})) if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
        return p;
      };
      const search = searchPathFor(c.path, { cwd: '/w', writableRoots: c.writableRoots ?? [], tmpDirs: ['/tmp', ...(c.tmpDir ? [c.tmpDir] : [])], canonical });
      assert.equal(search.path, c.runPath, 'the PATH the command gets');
      const probe = { isExecutable: (p: string) => c.files.includes(p), canonical, isDanglingLink: (p: string) => (c.dangling ?? []).includes(p) };
      const locate = locatorFor([c.argv0], search.entries, probe, search.writable);
      assert.equal(locate(c.argv0), c.runs, 'the file that runs');
      assert.equal(isTrustedProgramPath(c.argv0, locate), c.trusted, 'trusted');
      // the classifier's verdict follows: a planted or unplaced program is never known-safe
      const argv = c.argv0 === 'git' ? ['git', 'status'] : [c.argv0];
      assert.equal(checkProgram(argv, 'none', { locate }).safe, c.trusted, 'known-safe');
      // a name the edge did not look up is not found, whatever the disk holds
      assert.equal(locatorFor([], search.entries, probe, search.writable)(c.argv0), null);
    });
  }
  test("a script's builtins (cd, echo, pwd) are the shell's own: no PATH look-up decides them; a whole argv `cd` still is execvp'd", () => {
    const onPath = new Set(['bash', 'ls']);
    const locate = (n: string) => (onPath.has(n) ? `/usr/bin/${n}` : null);
    assert.equal(checkKnownSafe(['bash', '-lc', 'cd src && ls && pwd && echo done'], { locate }).safe, true);
    assert.equal(checkKnownSafe(['bash', '-lc', 'cd src && cat x'], { locate }).safe, false, 'cat is looked up');
    assert.equal(checkKnownSafe(['cd', 'src'], { locate }).safe, false, 'execvp looks up cd');
    assert.equal(checkKnownSafe(['bash', '-lc', '/tmp/echo hi'], { locate }).safe, false, 'a path is not the builtin');
  });
  test('without a locator (the argv-only question) a bare name is read as the system program', () => {
    assert.equal(isTrustedProgramPath('ls'), true);
    assert.equal(isTrustedProgramPath('ls', () => null), false);
    // a locator answer that is not a system file, or names another program, is not trusted
    assert.equal(isTrustedProgramPath('ls', () => '/usr/bin/../../w/ls'), false);
    assert.equal(isTrustedProgramPath('ls', () => '/usr/bin/evil'), false);
    assert.equal(isTrustedProgramPath('ls', () => 'ls'), false);
  });
});

describe('a known-safe shell form runs without the startup files that could put `.` back on PATH', () => {
  for (const c of SHELL_STARTUP_CASES) {
    test(row(c.argv, c.why), () => assert.deepEqual(withoutShellStartup(c.argv), c.runs));
  }
});

describe('wrappers are judged by what they run, and are never known-safe', () => {
  for (const c of WRAPPER_CASES) {
    test(row(c.argv, c.why), () => {
      assert.equal(isDangerousCommand(c.argv), c.dangerous, 'dangerous');
      assert.equal(isKnownSafeCommand(c.argv), false, 'must not be known-safe');
    });
  }
});

describe('rule checks: an any_options allow rule never covers a word that runs or writes', () => {
  for (const c of RISKY_RULE_CASES) {
    test(`${row(c.argv, c.why)} (rule ${JSON.stringify(c.argv.slice(0, c.prefix))})`, () => {
      const rule: PrefixRule = {
        index: 0, pattern: c.argv.slice(0, c.prefix).map((w) => [w]), decision: 'allow', justification: 't',
        options: [], anyOptions: true, domains: [], exact: false,
      };
      const why = uncoveredWord(rule, c.argv);
      assert.equal(why === null, c.covered, JSON.stringify(why));
    });
  }
});
