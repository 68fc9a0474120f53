/** Cases for shellStartup.ts: what a known-safe shell form runs as, each with the attack it blocks. */
export const SHELL_STARTUP_CASES: Array<{ argv: string[]; runs: string[]; why: string }> = [
  { argv: ['bash', '-lc', 'ls'], runs: ['bash', '-c', 'ls'], why: "~/.profile's PATH=.:$PATH would run ./ls" },
  { argv: ['/bin/bash', '-lc', 'ls && pwd'], runs: ['/bin/bash', '-c', 'ls && pwd'], why: 'an absolute shell is a login shell too' },
  { argv: ['bash', '-c', 'ls'], runs: ['bash', '-c', 'ls'], why: 'already no profile' },
  { argv: ['sh', '-lc', 'ls'], runs: ['sh', '-c', 'ls'], why: "dash's login shell reads ~/.profile" },
  { argv: ['zsh', '-lc', 'ls'], runs: ['zsh', '-f', '-c', 'ls'], why: '~/.zshenv and ~/.zprofile may prepend a workspace directory' },
  { argv: ['zsh', '-c', 'ls'], runs: ['zsh', '-f', '-c', 'ls'], why: 'zsh reads ~/.zshenv even without -l' },
  { argv: ['ls', '-la'], runs: ['ls', '-la'], why: 'not a shell form' },
  { argv: ['fish', '-c', 'ls'], runs: ['fish', '-c', 'ls'], why: 'not a shell warden parses (never known-safe)' },
];
