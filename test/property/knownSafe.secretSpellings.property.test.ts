/**
 * Metamorphic laws of the known-safe secret and directory checks (redclass): a read of a
 * credential stays not known-safe however the path is spelled or reached, and a `cd` put anywhere
 * in a script never makes the script more permissive. Each law names the attack class it pins:
 * `/etc/x/../shadow`, `/pro?/self/mem`, `file -f.env`, `cd /etc; cd /nope; cat shadow`.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { checkKnownSafe } from '../../src/safety/knownSafe.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';

await loadShellGrammar();

const safe = (argv: string[]) => checkKnownSafe(argv, { platform: 'linux' }).safe;

/** Credentials by absolute path, as the sandbox's hidden list and secretPaths.ts name them. */
const SECRETS = [
  '/home/u/.ssh/id_ed25519', '/home/u/.ssh/config', '/etc/shadow', '/proc/self/environ', '/proc/1/cmdline', '/dev/sda',
  '/home/u/.config/gh/hosts.yml', '/home/u/.netrc', '/home/u/.aws/credentials', '/home/u/proj/.env', '/home/u/proj/.envrc',
  '/root/.docker/config.json', '/home/u/.git-credentials', '/etc/ssl/private/server.key',
  // rt-classifier: a home's dot-entries that no list names, token files by name, cluster admin credentials
  '/home/u/.cache/huggingface/token', '/home/u/.databrickscfg', '/root/.vault_pass', '/Users/u/.config/stripe/config.toml',
  '/home/u/proj/infra/terraform.tfvars', '/etc/kubernetes/admin.conf',
];

/** A rewrite of an absolute path that the kernel (or bash's globbing) reads as the same file. */
type Spelling = (segments: string[], pick: number) => string[];

const SPELLINGS: Spelling[] = [
  // a `.` segment: /etc/./shadow
  (s, n) => [...s.slice(0, n % (s.length + 1)), '.', ...s.slice(n % (s.length + 1))],
  // an empty segment: /etc//shadow
  (s, n) => [...s.slice(0, n % (s.length + 1)), '', ...s.slice(n % (s.length + 1))],
  // a detour: /etc/x/../shadow
  (s, n) => [...s.slice(0, n % (s.length + 1)), 'zz', '..', ...s.slice(n % (s.length + 1))],
  // one character of a name as a glob (`?` or a bracket), never a leading dot, which bash's glob does not match
  (s, n) => {
    const i = n % s.length;
    const seg = s[i]!;
    if (!isName(seg)) return s;
    const at = seg.startsWith('.') ? 1 + (n % Math.max(1, seg.length - 1)) : n % seg.length;
    if (at >= seg.length) return s;
    const glob = n % 2 === 0 ? '?' : `[${seg[at]}]`;
    return [...s.slice(0, i), seg.slice(0, at) + glob + seg.slice(at + 1), ...s.slice(i + 1)];
  },
  // a trailing `*` on the last name
  (s) => (isName(s[s.length - 1]!) ? [...s.slice(0, -1), `${s[s.length - 1]}*`] : s),
];

/** A segment naming a file, not one a spelling added (`.`, `..`, the detour, an empty one) or globbed. */
function isName(segment: string): boolean {
  return !['', '.', '..', 'zz'].includes(segment) && !/[*?[]/.test(segment);
}

const spelled = fc.tuple(fc.constantFrom(...SECRETS), fc.array(fc.tuple(fc.nat(SPELLINGS.length - 1), fc.nat()), { minLength: 1, maxLength: 3 })).map(([path, steps]) => {
  let segments = path.slice(1).split('/');
  for (const [which, pick] of steps) segments = SPELLINGS[which]!(segments, pick);
  return `/${segments.join('/')}`;
});

/** Ways a command reads a path: as an operand, an attached option value, or relative to a cd. */
const READERS: Array<(path: string) => string[]> = [
  (p) => ['cat', p],
  (p) => ['head', '-n', '3', p],
  (p) => ['bash', '-lc', `tail ${p}`],
  (p) => ['bash', '-lc', `sort -u ${p}`],
  (p) => ['base64', p],
  (p) => ['grep', '-n', 'x', p],
  (p) => ['file', `-f${p}`],
  (p) => ['wc', `--files0-from=${p}`],
  (p) => ['grep', `--file=${p}`, 'x'],
  (p) => ['rg', '-f', p, 'x'],
  (p) => ['bash', '-lc', `cd ${p.slice(0, p.lastIndexOf('/')) || '/'} && cat ${p.slice(p.lastIndexOf('/') + 1)}`],
  (p) => ['bash', '-lc', `cd ${p.slice(0, p.lastIndexOf('/')) || '/'}; cd /nonexistent; cat ${p.slice(p.lastIndexOf('/') + 1)}`],
  (p) => ['bash', '-lc', `cd ${p.slice(0, p.lastIndexOf('/')) || '/'} && file -f${p.slice(p.lastIndexOf('/') + 1)}`],
];

test('law: a read of a credential is never known-safe, however its path is spelled or reached', () => {
  fc.assert(
    fc.property(spelled, fc.constantFrom(...READERS), (path, reader) => !safe(reader(path))),
    { numRuns: 3000, seed: 12 },
  );
});

/** Ways a command reads a file by its bare name from the directory it runs in. */
const IN_DIRECTORY: Array<(name: string) => string[]> = [
  (n) => ['cat', n],
  (n) => ['tail', '-n', '3', n],
  (n) => ['bash', '-lc', `head ${n}`],
  (n) => ['bash', '-lc', `cd /nonexistent; sort ${n}`],
  (n) => ['grep', `--file=${n}`, 'x'],
];

test('law: a credential read by its bare name from the run directory (MCP workdir, Gemini dir_path) is never known-safe (rt-classifier)', () => {
  fc.assert(
    fc.property(spelled, fc.constantFrom(...IN_DIRECTORY), (path, reader) => {
      const cut = path.lastIndexOf('/');
      const name = path.slice(cut + 1);
      // a glob or `..` as the last segment is not a file name to read from there
      if (name === '' || name === '.' || name === '..' || name === 'zz') return true;
      return !checkKnownSafe(reader(name), { platform: 'linux', cwd: path.slice(0, cut) || '/' }).safe;
    }),
    { numRuns: 2000, seed: 12 },
  );
});

/** Scripts, safe and not, that a cd is put into. */
const SCRIPTS = [
  'ls -la', 'cat README.md', 'git status', 'grep -rn key', 'rg token', 'cat shadow', 'cat gh/hosts.yml', 'head .netrc', 'file -fshadow',
  'wc --files0-from=.netrc', 'cat self/environ', 'ls && cat .ssh/id_rsa', 'sort -u src/a.txt', 'cat ../x', 'grep -r x .',
  // cds of their own, so a cd can land between a cd and the read it leads to
  'cd /etc', 'cd /home/u/.config', 'cd ..', 'cd /proc', 'cd src',
];
const CD_TARGETS = ['src', '..', '../..', '/', '/etc', '/proc', '/home/u', '/home/u/.config', '/nonexistent', 'a/b', '-P src', '-- src', '.'];
const JOINERS = [' && ', '; ', ' || ', '\n'];

test('law: putting a cd anywhere in a script never makes it more permissive (a cd that fails leaves the shell where it was)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...SCRIPTS), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(...JOINERS),
      fc.nat(),
      fc.constantFrom(...CD_TARGETS),
      fc.constantFrom(...JOINERS),
      (commands, joiner, at, target, cdJoiner) => {
        const before = commands.join(joiner);
        const i = at % (commands.length + 1);
        const withCd = [...commands.slice(0, i), `cd ${target}`, ...commands.slice(i)];
        const after = withCd.reduce((acc, c, k) => (k === 0 ? c : acc + (k === i || k === i + 1 ? cdJoiner : joiner) + c), '');
        return safe(['bash', '-lc', before]) || !safe(['bash', '-lc', after]);
      },
    ),
    { numRuns: 2000, seed: 12 },
  );
});

/** Secrets a repository may hold, by repository path. */
const REPO_SECRETS = ['.env', 'config/.env.local', '.envrc', 'deploy/id_rsa', 'certs/server.key', 'infra/prod.tfstate', '.npmrc', 'config/secrets.yml'];

/** Ways git names a path: as an object (`REV:path`, `:N:path`) or a pathspec, with magic and in any case. */
const GIT_SPELLINGS: Array<(path: string, pick: number) => string> = [
  (p) => `HEAD:${p}`,
  (p, n) => `:${n % 4}:${p}`,
  (p) => `HEAD~2:./${p}`,
  (p) => `:/fix:${p}`,
  (p) => `:(top)${p}`,
  (p) => `:(icase)${p.toUpperCase()}`,
  (p) => `:(top,literal)${p}`,
  (p) => p.toUpperCase(),
  // wildmatch: one character of the name as `?` (a leading dot included) or the head as `*`
  (p, n) => {
    const at = p.lastIndexOf('/') + 1 + (n % (p.length - p.lastIndexOf('/') - 1));
    return `${p.slice(0, at)}?${p.slice(at + 1)}`;
  },
  (p) => `*${p.slice(p.lastIndexOf('/') + 2)}`,
];

test('law: a secret in the repository is never a known-safe git read, in any object-name or pathspec spelling', () => {
  fc.assert(
    fc.property(fc.constantFrom(...REPO_SECRETS), fc.constantFrom(...GIT_SPELLINGS), fc.nat(), fc.constantFrom(['show'], ['log', '-p', '--'], ['diff', 'HEAD~1', '--'], ['--icase-pathspecs', 'log', '-p', '--']), (path, spell, pick, sub) => {
      return !safe(['git', ...sub, spell(path, pick)]);
    }),
    { numRuns: 2000, seed: 12 },
  );
});
