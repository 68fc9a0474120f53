/**
 * The denial heuristic's case table (CODEX-REFERENCE §8 plus the bwrap-specific additions): each row
 * is a failed run and whether the sandbox caused it, with what was named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDenial, extractPath, type DenialInput } from '../../src/sandbox/denial.ts';

const run = (over: Partial<DenialInput>): DenialInput => ({
  sandboxType: 'bwrap',
  exitCode: 1,
  signal: null,
  stdout: '',
  stderr: '',
  timedOut: false,
  ...over,
});

const CASES: Array<[string, Partial<DenialInput>, boolean, string?]> = [
  // From the reference's own tests
  ['exit 1 with no text is an ordinary failure', {}, false],
  ['exit 1 + "Operation not permitted" is a denial', { stderr: 'foo: Operation not permitted' }, true, 'operation not permitted'],
  ['the same without a sandbox is not', { sandboxType: 'none', stderr: 'Operation not permitted' }, false],
  ['127 command not found is not', { exitCode: 127, stderr: 'sh: 1: frob: not found' }, false],
  ['101 + read-only file system in stdout (seatbelt) is', { sandboxType: 'seatbelt', exitCode: 101, stdout: 'error: Read-only file system' }, true, 'write to a read-only path'],
  ['exit 159 (SIGSYS) is', { exitCode: 159 }, true, 'a system call blocked by the sandbox (SIGSYS)'],
  ['signal SIGSYS is', { exitCode: null, signal: 'SIGSYS' }, true, 'a system call blocked by the sandbox (SIGSYS)'],
  // Never a denial
  ['exit 0 never is, whatever it printed', { exitCode: 0, stderr: 'Permission denied' }, false],
  ['a timeout never is', { exitCode: null, signal: 'SIGTERM', timedOut: true, stderr: 'Read-only file system' }, false],
  ['exit 2 (misuse) is not', { exitCode: 2, stderr: 'usage: x' }, false],
  ['exit 126 without keywords is not', { exitCode: 126, stderr: 'cannot execute binary file' }, false],
  ['a keyword wins over exit 126', { exitCode: 126, stderr: 'sh: 1: ./x: Permission denied' }, true, 'permission denied: ./x'],
  ['a plain test failure is not', { exitCode: 1, stdout: 'FAIL: expected 3, got 4' }, false],
  // Paths named
  ["touch's quoted path", { stderr: "touch: cannot touch '/etc/x': Read-only file system" }, true, 'write to a read-only path: /etc/x'],
  ["dash's unquoted path", { exitCode: 2, stderr: 'sh: 1: cannot create /etc/x: Read-only file system' }, true, 'write to a read-only path: /etc/x'],
  ["bash's path: message form", { stderr: 'bash: /usr/x: Read-only file system' }, true, 'write to a read-only path: /usr/x'],
  ["node's EROFS", { stderr: "Error: EROFS: read-only file system, open '/opt/y'" }, true, 'write to a read-only path: /opt/y'],
  ["python's errno 30", { stderr: "OSError: [Errno 30] Read-only file system: '/srv/z'" }, true, 'write to a read-only path: /srv/z'],
  ['mkdir with curly quotes', { stderr: 'mkdir: cannot create directory ‘/var/q’: Read-only file system' }, true, 'write to a read-only path: /var/q'],
  // The /dev/null masks over a missing .git / .warden
  ['ENOTDIR below a masked .warden', { stderr: "touch: cannot touch '.warden/x': Not a directory" }, true, 'write to a protected path: .warden/x'],
  ['EEXIST creating a masked .git', { stderr: 'mkdir: cannot create directory ‘.git’: File exists' }, true, 'write to a protected path: .git'],
  // an existing persistence file is a read-only mount point: renaming over it is EBUSY, naming the temp file first
  [
    'EBUSY renaming over a masked persistence file',
    { stderr: "apply_patch: EBUSY: resource busy or locked, rename '/w/..envrc.warden-new-1.tmp' -> '/w/.envrc'" },
    true,
    'write to a protected path: /w/.envrc',
  ],
  ['EBUSY on an ordinary path is not', { stderr: "EBUSY: resource busy or locked, rename '/w/a.tmp' -> '/w/a'" }, false],
  ['ENOTDIR below a masked .vscode (an alias: case)', { stderr: "touch: cannot touch '.VSCode/tasks.json': Not a directory" }, true, 'write to a protected path: .VSCode/tasks.json'],
  ['ENOTDIR on an ordinary path is not', { stderr: "cat: 'src/x/y': Not a directory" }, false],
  ['File exists on an ordinary path is not', { stderr: "mkdir: cannot create directory 'build': File exists" }, false],
  // Network (off unless the run had it)
  ['network unreachable', { stderr: 'curl: (7) Failed to connect: Network is unreachable' }, true, 'network connection blocked'],
  ['connection refused', { stderr: 'Error: connect ECONNREFUSED 127.0.0.1:5432' }, true, 'network connection blocked'],
  ['DNS failure', { exitCode: 6, stderr: 'curl: (6) Could not resolve host: example.com' }, true, 'network name resolution blocked'],
  ['connect EPERM (seccomp)', { stderr: 'Error: connect EPERM 127.0.0.1:80 - Local' }, true, 'network connection blocked'],
  ['curl: failed to connect, operation not permitted', { exitCode: 7, stderr: 'curl: (7) Failed to connect to x port 80: Operation not permitted' }, true, 'network connection blocked'],
  ['EPERM elsewhere stays a plain EPERM', { stderr: "chmod: changing permissions of '/x': Operation not permitted" }, true, 'operation not permitted: /x'],
  ['connection refused with the network on is not', { network: true, stderr: 'connect ECONNREFUSED 127.0.0.1:1' }, false],
  // Hidden paths (issue #13): named whatever the exit code, resolved against cwd
  ['cat of a hidden file', { hidden: ['/h/.ssh'], stderr: 'cat: /h/.ssh/id_ed25519: Permission denied' }, true, 'access to a hidden path: /h/.ssh/id_ed25519'],
  ['ls of a hidden dir exits 2 and still is', { exitCode: 2, hidden: ['/h/.ssh'], stderr: "ls: cannot open directory '/h/.ssh': Permission denied" }, true, 'access to a hidden path: /h/.ssh'],
  ['a relative path against cwd', { hidden: ['/h/.netrc'], cwd: '/h', stderr: 'cat: .netrc: Permission denied' }, true, 'access to a hidden path: /h/.netrc'],
  ['a write to a hidden file', { exitCode: 2, hidden: ['/h/.netrc'], stderr: 'sh: 1: cannot create /h/.netrc: Read-only file system' }, true, 'access to a hidden path: /h/.netrc'],
  ['a sibling whose name extends a hidden one is not hidden', { hidden: ['/h/.ssh'], stderr: 'cat: /h/.sshx: Permission denied' }, true, 'permission denied: /h/.sshx'],
  ['a hidden path on a bare run is not a denial', { sandboxType: 'none', hidden: ['/h/.ssh'], stderr: 'cat: /h/.ssh/x: Permission denied' }, false],
  // Other keywords
  ['the word sandbox', { stderr: 'denied by sandbox policy' }, true, 'blocked by the sandbox'],
  ['seccomp', { stderr: 'seccomp filter' }, true, 'blocked by the sandbox'],
];

for (const [name, over, denied, what] of CASES) {
  test(`denial: ${name}`, () => {
    const verdict = detectDenial(run(over));
    assert.equal(verdict.denied, denied, JSON.stringify(verdict));
    if (what !== undefined) assert.equal(verdict.what, what);
    if (!denied) assert.equal(verdict.what, undefined);
  });
}

test('extractPath finds nothing in a line without a path', () => {
  assert.equal(extractPath('Operation not permitted'), null);
});
