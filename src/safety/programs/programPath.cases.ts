/** Cases for programPath.ts. */
export const PROGRAM_PATH_CASES: Array<{ argv0: string; trusted: boolean; name: string }> = [
  { argv0: 'ls', trusted: true, name: 'ls' },
  { argv0: '/usr/bin/ls', trusted: true, name: 'ls' },
  { argv0: '/bin/ls', trusted: true, name: 'ls' },
  { argv0: './ls', trusted: false, name: 'ls' },
  { argv0: '../bin/ls', trusted: false, name: 'ls' },
  { argv0: 'bin/ls', trusted: false, name: 'ls' },
  { argv0: '/tmp/ls', trusted: false, name: 'ls' },
  { argv0: '/home/u/work/ls', trusted: false, name: 'ls' },
  { argv0: '/usr/bin/../../tmp/ls', trusted: false, name: 'ls' },
  { argv0: '/usr//bin/ls', trusted: false, name: 'ls' },
  { argv0: '/usr/bin/./ls', trusted: false, name: 'ls' },
  { argv0: '/usr/bin/', trusted: true, name: '' },
  { argv0: '', trusted: false, name: '' },
];

/**
 * A bare name found through the command's PATH (programPath.ts with src/sandbox/commandPath.ts):
 * the person's PATH, the executable files on disk, the directory the command runs in (the
 * workspace, /w) and its writable roots; then the PATH the command gets, where it finds argv0 and
 * whether that is trusted. Each row names the attack. The agent may write /w, /w/bin, /tmp and the
 * roots: a planted file there must never be the program a known-safe verdict runs.
 */
export const PATH_LOOKUP_CASES: Array<{
  attack: string;
  path: string;
  files: string[];
  writableRoots?: string[];
  tmpDir?: string;
  /** PATH entries (or files in them) that are symlinks: path -> where it points. */
  links?: Record<string, string>;
  /** Symlinks whose target is missing at the look-up. */
  dangling?: string[];
  argv0: string;
  runPath: string;
  runs: string | null;
  trusted: boolean;
}> = [
  { attack: 'none: a clean PATH finds the system ls', path: '/usr/local/bin:/usr/bin:/bin', files: ['/usr/bin/ls'], argv0: 'ls', runPath: '/usr/local/bin:/usr/bin:/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: '`.` first: ./ls planted in the workspace', path: '.:/usr/bin', files: ['/w/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'an empty entry (`::`) is the cwd', path: '/usr/local/bin::/usr/bin', files: ['/w/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/local/bin:/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'a leading `:` is the cwd', path: ':/usr/bin', files: ['/w/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'a trailing `:` is the cwd (found there when the system has no such program)', path: '/usr/bin:', files: ['/w/rg'], argv0: 'rg', runPath: '/usr/bin', runs: null, trusted: false },
  { attack: 'a relative entry (`bin`) is under the cwd', path: 'bin:/usr/bin', files: ['/w/bin/cat', '/usr/bin/cat'], argv0: 'cat', runPath: '/usr/bin', runs: '/usr/bin/cat', trusted: true },
  { attack: 'node_modules/.bin on PATH: an npm package planted git', path: 'node_modules/.bin:/usr/bin', files: ['/w/node_modules/.bin/git', '/usr/bin/git'], argv0: 'git', runPath: '/usr/bin', runs: '/usr/bin/git', trusted: true },
  { attack: 'an absolute workspace directory (direnv PATH_add bin)', path: '/w/bin:/usr/bin', files: ['/w/bin/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'the workspace spelled with `..` still is the workspace', path: '/w/x/../bin:/usr/bin', files: ['/w/bin/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'a writable root on PATH', path: '/data/tools:/usr/bin', writableRoots: ['/data'], files: ['/data/tools/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: '/tmp on PATH: any process may write it', path: '/tmp/bin:/usr/bin', files: ['/tmp/bin/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: '$TMPDIR on PATH', path: '/var/scratch/me:/usr/bin', tmpDir: '/var/scratch/me', files: ['/var/scratch/me/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'a symlinked entry that points into the workspace', path: '/home/u/tools:/usr/bin', links: { '/home/u/tools': '/w/tools' }, files: ['/home/u/tools/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'a personal directory first: ~/bin/ls is not a system program', path: '/home/u/bin:/usr/bin', files: ['/home/u/bin/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/home/u/bin:/usr/bin', runs: '/home/u/bin/ls', trusted: false },
  { attack: 'none: a personal directory without the name falls through to the system', path: '/home/u/bin:/usr/bin', files: ['/usr/bin/ls'], argv0: 'ls', runPath: '/home/u/bin:/usr/bin', runs: '/usr/bin/ls', trusted: true },
  { attack: 'none: /bin a symlink to /usr/bin (merged /usr) is the system', path: '/bin', links: { '/bin': '/usr/bin' }, files: ['/bin/ls'], argv0: 'ls', runPath: '/bin', runs: '/usr/bin/ls', trusted: true },
  // redteam: the file in a system directory is itself a link into what the agent may write
  { attack: "a system directory's ls is a symlink to a build in the workspace", path: '/usr/local/bin:/usr/bin', links: { '/usr/local/bin/ls': '/w/target/ls' }, files: ['/usr/local/bin/ls', '/usr/bin/ls'], argv0: 'ls', runPath: '/usr/local/bin:/usr/bin', runs: '/w/target/ls', trusted: false },
  { attack: "a system directory's rg is a symlink into /tmp", path: '/usr/local/bin:/usr/bin', links: { '/usr/local/bin/rg': '/tmp/build/rg' }, files: ['/usr/local/bin/rg'], argv0: 'rg', runPath: '/usr/local/bin:/usr/bin', runs: '/tmp/build/rg', trusted: false },
  { attack: 'a dangling symlink first: its target (in the workspace) may appear before the run', path: '/usr/local/bin:/usr/bin', dangling: ['/usr/local/bin/ls'], files: ['/usr/bin/ls'], argv0: 'ls', runPath: '/usr/local/bin:/usr/bin', runs: null, trusted: false },
  { attack: 'none: a system link to a file outside what the agent writes (alternatives, Cellar) is the system', path: '/usr/bin', links: { '/usr/bin/cat': '/usr/lib/coreutils/cat' }, files: ['/usr/bin/cat'], argv0: 'cat', runPath: '/usr/bin', runs: '/usr/bin/cat', trusted: true },
  { attack: 'only planted copies: nothing trusted left to run', path: '.:/w/bin', files: ['/w/ls', '/w/bin/ls'], argv0: 'ls', runPath: '', runs: null, trusted: false },
  { attack: 'a name the PATH does not hold is not trusted (fail closed)', path: '/usr/bin', files: ['/usr/bin/ls'], argv0: 'cat', runPath: '/usr/bin', runs: null, trusted: false },
];
