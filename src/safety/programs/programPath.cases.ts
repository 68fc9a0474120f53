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
