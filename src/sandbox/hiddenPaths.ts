/**
 * Paths no sandboxed command may read or write: credentials (the default list below) and warden's own
 * files (the store, the rules, warden's config; the CLI adds those). Pure: the list is built from the
 * environment, and `planHides` decides what to mask given an `FsProbe`.
 *
 * Why: `--ro-bind / /` shows the whole home to every auto-approved command, and `cat ~/.ssh/id_ed25519`
 * is a known-safe read. An agent steered by a prompt injection reads the key and prints it into its
 * context (or, with the network on, sends it away). And an agent that can read or write warden's store
 * can read every other session's commands and outputs, or record a decision nobody made.
 *
 * How (bwrap, see bwrapArgs.ts): an existing directory gets an empty tmpfs with mode 000, remounted
 * read-only (so `ls`, `cat dir/x`, creating and chmod all fail); an existing file gets a read-only bind
 * of an empty mode-000 decoy file (reads fail with EACCES, writes with EROFS, rm/mv with EBUSY). Only
 * paths that exist are masked (stat is cheap, a mount is not); a missing one has nothing to leak. A
 * symlink is followed: what must be hidden is the file it reaches.
 *
 * A mask covers a path, not a file: a hard link to a hidden file is another path to the same bytes,
 * and nothing covers it (red team: `ln ~/.aws/credentials ws/x` made by anyone before the run, then a
 * sandboxed `cat x`). The kernel cannot list a file's other names, but it counts them, so a hidden
 * file with more names than the hidden list gives it is reported (`linked`) and runCommand refuses
 * the run (fail closed) until the link is gone or hidden too.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { FsProbe } from './writableRoots.ts';
import { isWithin } from './writableRoots.ts';
import { wardenConfigDir, wardenStateDir, type XdgEnv } from '../privateFiles.ts';

/**
 * The documented default list (docs/security.md "Secrets"). `~` is $HOME; `$XDG_CONFIG_HOME` variants
 * are added when it is set to something other than ~/.config.
 */
export const DEFAULT_HIDDEN_IN_HOME = [
  // ssh, gpg, password managers and keyrings
  '.ssh',
  '.gnupg',
  '.password-store',
  '.local/share/keyrings',
  '.config/op',
  '.vault-token',
  // git and forges
  '.git-credentials',
  '.config/git/credentials',
  '.config/gh',
  '.config/hub',
  '.config/glab-cli',
  '.netrc',
  // package registries
  '.npmrc',
  '.yarnrc.yml',
  '.pypirc',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.gem/credentials',
  '.m2/settings.xml',
  '.m2/settings-security.xml',
  '.gradle/gradle.properties',
  '.nuget/NuGet/NuGet.Config',
  '.composer/auth.json',
  '.config/composer/auth.json',
  // containers and clusters
  '.docker/config.json',
  '.kube',
  '.config/helm',
  // cloud CLIs
  '.aws',
  '.config/gcloud',
  '.azure',
  '.oci',
  '.aliyun',
  '.config/doctl',
  '.config/hcloud',
  '.fly',
  '.terraform.d/credentials.tfrc.json',
  '.config/rclone',
  '.s3cfg',
  '.boto',
  // databases
  '.pgpass',
  '.pg_service.conf',
  '.my.cnf',
  // agents' own credentials
  '.claude/.credentials.json',
  '.claude.json', // Claude Code's config: MCP servers' env, with their API keys
  '.codex/auth.json',
  '.gemini/oauth_creds.json',
  '.config/github-copilot', // Copilot's OAuth tokens (hosts.json, apps.json)
  '.config/containers/auth.json', // podman/buildah registry logins
  // browser profiles (cookies, saved passwords)
  '.mozilla',
  '.config/google-chrome',
  '.config/chromium',
  '.config/BraveSoftware',
  '.config/microsoft-edge',
  '.config/vivaldi',
  'snap/firefox',
  'snap/chromium',
  'Library/Application Support/Google/Chrome',
  'Library/Application Support/Firefox',
  'Library/Keychains',
  // shell histories (commands typed with tokens in them)
  '.bash_history',
  '.zsh_history',
  '.local/share/fish/fish_history',
  '.python_history',
  '.psql_history',
  '.mysql_history',
] as const;

/**
 * The machine's own secrets, hidden wherever HOME is. Red team: warden run as root (a container, a
 * CI runner, a devcontainer) gave every sandboxed command root's uid, and `--ro-bind / /` showed it
 * /etc/shadow and the ssh host keys (dropping capabilities does not stop an owner reading its own
 * files); and as any user, the secrets a container or pod gets mounted (/run/secrets, a Kubernetes
 * service-account token) are readable files. secretPaths.ts names the same for the classifier.
 */
export const SYSTEM_HIDDEN = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/security/opasswd',
  '/etc/ssh/ssh_host_rsa_key',
  '/etc/ssh/ssh_host_dsa_key',
  '/etc/ssh/ssh_host_ecdsa_key',
  '/etc/ssh/ssh_host_ed25519_key',
  '/etc/ssl/private',
  '/etc/krb5.keytab',
  '/run/secrets',
  '/var/run/secrets',
] as const;

/** Entries resolved against $XDG_CONFIG_HOME when it is set elsewhere. */
const XDG_CONFIG_ENTRIES = ['gh', 'git/credentials', 'hub', 'glab-cli', 'gcloud', 'op', 'helm', 'rclone', 'doctl', 'hcloud', 'github-copilot', 'containers/auth.json'];

/**
 * Variables that move a credential file or directory off its default place, so the list above misses
 * it. Red team: with `AWS_SHARED_CREDENTIALS_FILE=/srv/creds` (or a service-account key named by
 * GOOGLE_APPLICATION_CREDENTIALS, a KUBECONFIG, a podman login in $XDG_RUNTIME_DIR) a sandboxed
 * `cat` read the key where the masks of ~/.aws never looked. Each value is a path (KUBECONFIG a
 * colon-separated list); a relative one names nothing here.
 */
const CREDENTIAL_PATH_VARS = [
  'PGPASSFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CONFIG',
  'AZURE_CONFIG_DIR',
  'KUBECONFIG',
  'DOCKER_CONFIG',
  'REGISTRY_AUTH_FILE',
  'GNUPGHOME',
  'PASSWORD_STORE_DIR',
  'NPM_CONFIG_USERCONFIG',
  'npm_config_userconfig',
] as const;

type HiddenEnv = {
  HOME?: string | undefined;
  XDG_CONFIG_HOME?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
  KRB5CCNAME?: string | undefined;
  CARGO_HOME?: string | undefined;
} & {
  [K in (typeof CREDENTIAL_PATH_VARS)[number]]?: string | undefined;
};

/**
 * Absolute paths of the default list for this environment; `uid` adds Kerberos' default ticket
 * cache (/tmp/krb5cc_UID, a ticket anyone holding it can use) when KRB5CCNAME does not move it. Pure.
 */
export function defaultHiddenPaths(env: HiddenEnv, uid?: number): string[] {
  const out: string[] = [];
  const home = env.HOME;
  if (home !== undefined && isAbsolute(home)) for (const rel of DEFAULT_HIDDEN_IN_HOME) out.push(join(home, rel));
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && isAbsolute(xdg) && (home === undefined || resolve(xdg) !== join(home, '.config'))) {
    for (const rel of XDG_CONFIG_ENTRIES) out.push(join(xdg, rel));
  }
  for (const name of CREDENTIAL_PATH_VARS) {
    const value = env[name];
    if (value === undefined) continue;
    for (const path of name === 'KUBECONFIG' ? value.split(':') : [value]) if (isAbsolute(path)) out.push(resolve(path));
  }
  if (env.CARGO_HOME !== undefined && isAbsolute(env.CARGO_HOME)) out.push(join(env.CARGO_HOME, 'credentials'), join(env.CARGO_HOME, 'credentials.toml'));
  if (env.XDG_RUNTIME_DIR !== undefined && isAbsolute(env.XDG_RUNTIME_DIR)) out.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')); // podman's default login file
  // Kerberos: FILE:/p, DIR:/p or a bare path; KEYRING: and KCM: caches live in the kernel or a daemon.
  out.push(...SYSTEM_HIDDEN);
  const krb = env.KRB5CCNAME === undefined ? (uid === undefined ? undefined : `/tmp/krb5cc_${uid}`) : env.KRB5CCNAME.replace(/^(FILE|DIR):/, '');
  if (krb !== undefined && isAbsolute(krb)) out.push(resolve(krb));
  return [...new Set(out)];
}

export interface HidePlan {
  /** Canonical existing directories to cover with an empty mode-000 tmpfs. */
  dirs: string[];
  /** Canonical existing non-directories to cover with the decoy file. */
  files: string[];
  /** Hidden paths that could not be hidden, and why (they hold the working directory or a writable root). */
  notHidden: Array<{ path: string; reason: string }>;
  /**
   * Hidden files, and regular files directly in hidden directories, with hard links outside the
   * hidden list: another name reaches their bytes unmasked (see the header). Files deeper in a hidden
   * directory are not looked at (a browser profile holds thousands; a run stats them all otherwise).
   */
  linked: Array<{ path: string; links: number }>;
}

/**
 * Which hidden paths get a mask. `keep` are directories that must stay visible (cwd and the writable
 * roots): a hidden directory holding one of them cannot be masked without hiding the workspace, so it
 * is reported in `notHidden` (the CLI lists warden's store files one by one for that case). Does I/O
 * only through `probe`.
 */
export function planHides(hidden: readonly string[], keep: readonly string[], probe: FsProbe): HidePlan {
  const found: Array<{ path: string; dir: boolean }> = [];
  const notHidden: HidePlan['notHidden'] = [];
  for (const want of hidden) {
    if (!isAbsolute(want)) continue; // the CLI resolves every entry; a relative one names nothing here
    // Most of the default list is absent on any one machine: one lstat says so (ENOENT from lstat
    // means the path does not resolve, so realpath would fail too), and a run pays for ~70 of them.
    // Never cached across runs: a secret created later must be hidden from the next command.
    if (probe.kind(want) === 'missing') continue;
    const path = probe.realpath(want);
    if (path === null) continue; // missing (or a dangling link): nothing to read
    const kind = probe.kind(path);
    if (kind === 'missing' || kind === 'symlink') continue;
    const holds = keep.find((k) => isWithin(k, path));
    if (holds !== undefined) {
      notHidden.push({ path, reason: `it holds ${holds}, which the command needs` });
      continue;
    }
    if (!found.some((f) => f.path === path)) found.push({ path, dir: kind === 'dir' });
  }
  // A path inside a hidden directory is covered already (and its mount point would be gone).
  const covered = (p: string) => found.some((f) => f.dir && f.path !== p && isWithin(p, f.path));
  const kept = found.filter((f) => !covered(f.path));
  const dirs = kept.filter((f) => f.dir).map((f) => f.path);
  const files = kept.filter((f) => !f.dir).map((f) => f.path);
  return { dirs, files, notHidden, linked: linkedElsewhere(files, dirs, probe) };
}

/**
 * The masked files (the hidden `files`, and the regular files directly in the hidden `dirs`) that
 * have more names than those the masks cover: each name the list reaches counts once against the
 * file's link count. Only files with more than one name cost more than the one lstat. Does I/O only
 * through `probe` (none without `probe.inode`).
 */
function linkedElsewhere(files: readonly string[], dirs: readonly string[], probe: FsProbe): HidePlan['linked'] {
  if (probe.inode === undefined) return [];
  const masked = [...files];
  for (const dir of dirs) for (const e of probe.list?.(dir) ?? []) if (e.kind === 'file') masked.push(join(dir, e.name));
  const names = new Map<string, { path: string; links: number; covered: number }>();
  for (const path of masked) {
    const node = probe.inode(path);
    if (node === null || node.links < 2) continue;
    const seen = names.get(node.id);
    if (seen === undefined) names.set(node.id, { path, links: node.links, covered: 1 });
    else seen.covered++;
  }
  return [...names.values()].filter((n) => n.covered < n.links).map(({ path, links }) => ({ path, links }));
}

/**
 * warden's own files, hidden in every sandbox whatever the flags say: the store (an SQLite file, its
 * `-wal`/`-shm`/`-journal` and its directory; a PostgreSQL store has no file, its `~/.pgpass` is in
 * the default list and its URL never reaches the command's environment), the rules file and its
 * directory, and warden's config and state directories. Each file is listed as well as its directory,
 * because a directory that holds the workspace cannot be hidden (planHides) while its files can. Pure.
 */
export function wardenOwnPaths(options: {
  storePath: string | null;
  rulesPath: string;
  env: XdgEnv;
}): string[] {
  const { env } = options;
  const out: string[] = [];
  for (const dir of [wardenConfigDir(env), wardenStateDir(env)]) if (dir !== null) out.push(dir);
  if (options.storePath !== null) {
    const db = resolve(options.storePath);
    out.push(db, `${db}-wal`, `${db}-shm`, `${db}-journal`, dirname(db));
  }
  const rules = resolve(options.rulesPath);
  out.push(rules, dirname(rules));
  return [...new Set(out)];
}
