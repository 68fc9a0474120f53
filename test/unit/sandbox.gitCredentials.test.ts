import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includedPaths, withoutCredentials } from '../../src/sandbox/gitCredentials.ts';

const CASES: Array<[input: string, expected: string | null, why: string]> = [
  ['[remote "o"]\n\turl = https://user:tok@github.com/o/r.git\n', '[remote "o"]\n\turl = https://github.com/o/r.git\n', 'user and password'],
  ['\turl = https://ghp_x@github.com/o/r\n', '\turl = https://github.com/o/r\n', 'a token as the user name alone'],
  ['[url "https://ghp_x@github.com/"]\n\tinsteadOf = https://github.com/\n', '[url "https://github.com/"]\n\tinsteadOf = https://github.com/\n', 'in a section name'],
  ['\tpushurl = ftp://u:p@host/x\n', '\tpushurl = ftp://host/x\n', 'a password in any scheme'],
  ['[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic abc\n', '[http "https://github.com/"]\n\n', 'an auth header (line kept, blanked)'],
  ['\textraHeader=x\n', '\n', 'case and spacing of the key'],
  ['\tsmtpPassword = hunter2\n\tgithubToken = t\n', '\n\n', 'password and token keys'],
  ['[remote "o"]\n\turl = git@github.com:o/r.git\n\turl = ssh://git@host/r\n', null, 'ssh user names are not secrets'],
  ['[core]\n\tbare = false\n', null, 'nothing to take out'],
];

test('withoutCredentials takes out userinfo and credential keys, and leaves the rest', () => {
  for (const [input, expected, why] of CASES) assert.equal(withoutCredentials(input), expected, why);
});

test('includedPaths reads the path of [include] and [includeIf] sections only', () => {
  const text = '[include]\n\tpath = ~/.gitconfig.local\n[includeIf "gitdir:~/work/"]\n\tpath = "work.inc"\n[core]\n\tpath = not-an-include\n';
  assert.deepEqual(includedPaths(text), ['~/.gitconfig.local', 'work.inc']);
});
