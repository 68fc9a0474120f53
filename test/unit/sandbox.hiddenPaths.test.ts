/**
 * The hidden-path lists (issue #13): the documented default secrets for an environment, warden's own
 * files for a store and a rules file, and what a sandboxed command's environment leaves out. The
 * kernel's view (reads, writes and creates from inside bwrap) is test/e2e/sandbox.hidden.e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HIDDEN_IN_HOME, SYSTEM_HIDDEN, defaultHiddenPaths, wardenOwnPaths } from '../../src/sandbox/hiddenPaths.ts';
import { sandboxEnv } from '../../src/sandbox/runCommand.ts';

test('the default list covers what the issue names, under $HOME', () => {
  const got = defaultHiddenPaths({ HOME: '/home/u' });
  for (const rel of ['.ssh', '.aws', '.config/gh', '.netrc', '.git-credentials', '.docker/config.json', '.kube', '.npmrc', '.pypirc', '.gnupg', '.config/gcloud', '.azure', '.password-store', '.mozilla', '.config/google-chrome', '.pgpass']) {
    assert.ok(got.includes(`/home/u/${rel}`), rel);
  }
  assert.equal(got.length, DEFAULT_HIDDEN_IN_HOME.length + SYSTEM_HIDDEN.length);
  for (const p of ['/etc/shadow', '/etc/ssh/ssh_host_ed25519_key', '/run/secrets', '/var/run/secrets']) assert.ok(got.includes(p), p);
});

test('$XDG_CONFIG_HOME elsewhere adds its gh, git credentials and cloud entries; a relative one or ~/.config adds nothing', () => {
  const got = defaultHiddenPaths({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' });
  for (const p of ['/cfg/gh', '/cfg/git/credentials', '/cfg/gcloud']) assert.ok(got.includes(p), p);
  assert.equal(defaultHiddenPaths({ HOME: '/home/u', XDG_CONFIG_HOME: 'rel' }).length, DEFAULT_HIDDEN_IN_HOME.length + SYSTEM_HIDDEN.length);
  assert.equal(defaultHiddenPaths({ HOME: '/home/u', XDG_CONFIG_HOME: '/home/u/.config' }).length, DEFAULT_HIDDEN_IN_HOME.length + SYSTEM_HIDDEN.length);
  assert.ok(defaultHiddenPaths({ HOME: '/home/u', PGPASSFILE: '/etc/pgpass' }).includes('/etc/pgpass'));
  const moved = defaultHiddenPaths({
    AWS_SHARED_CREDENTIALS_FILE: '/srv/aws/creds',
    GOOGLE_APPLICATION_CREDENTIALS: '/srv/sa.json',
    KUBECONFIG: '/srv/k1:relative/k2:/srv/k3',
    DOCKER_CONFIG: '/srv/docker',
    CARGO_HOME: '/opt/cargo',
    XDG_RUNTIME_DIR: '/run/user/1000',
    KRB5CCNAME: 'FILE:/tmp/krb5cc_1000_x',
    GNUPGHOME: 'rel/gnupg',
  });
  const system = new Set<string>(SYSTEM_HIDDEN);
  const own = (list: string[]) => list.filter((p) => !system.has(p)).sort();
  assert.deepEqual(own(moved), ['/opt/cargo/credentials', '/opt/cargo/credentials.toml', '/run/user/1000/containers/auth.json', '/srv/aws/creds', '/srv/docker', '/srv/k1', '/srv/k3', '/srv/sa.json', '/tmp/krb5cc_1000_x']);
  assert.deepEqual(own(defaultHiddenPaths({}, 1000)), ['/tmp/krb5cc_1000'], "Kerberos' default cache");
  assert.deepEqual(own(defaultHiddenPaths({ KRB5CCNAME: 'KEYRING:persistent:1000' }, 1000)), [], 'a cache in the kernel has no path');
  assert.deepEqual(defaultHiddenPaths({ HOME: 'relative' }), [...SYSTEM_HIDDEN], 'a relative HOME names nothing (the machine\'s own secrets stay)');
});

test("warden's own files: the store, its companions and directory, the rules and their directory, config and state dirs", () => {
  const got = wardenOwnPaths({ storePath: '/tmp/s/events.db', rulesPath: '/ws/rules.toml', env: { HOME: '/home/u' } });
  assert.deepEqual(got, [
    '/home/u/.config/warden',
    '/home/u/.local/state/warden',
    '/tmp/s/events.db',
    '/tmp/s/events.db-wal',
    '/tmp/s/events.db-shm',
    '/tmp/s/events.db-journal',
    '/tmp/s',
    '/ws/rules.toml',
    '/ws',
  ]);
  const xdg = wardenOwnPaths({ storePath: null, rulesPath: '/c/warden/rules.toml', env: { HOME: '/home/u', XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s' } });
  assert.deepEqual(xdg, ['/c/warden', '/s/warden', '/c/warden/rules.toml']);
});

test("a sandboxed command's environment has no store location and no PostgreSQL credentials", () => {
  const env = sandboxEnv({
    PATH: '/bin',
    WARDEN_STORE: 'postgres://u:pw@db/warden',
    PGPASSWORD: 'pw',
    PGPASSFILE: '/x',
    DATABASE_URL: 'postgresql://app:secret@db:5432/app',
    PUBLIC_URL: 'postgres://db/app',
    WARDEN_SESSION: 's1',
  }, { network: true });
  assert.deepEqual(env, { PATH: '/bin', PUBLIC_URL: 'postgres://db/app', WARDEN_SESSION: 's1' });
});

test('without any network, no variable named like a credential and no URL with a password; git config names stay', () => {
  const agent = {
    PATH: '/bin',
    GH_TOKEN: 't',
    AWS_SECRET_ACCESS_KEY: 's',
    AWS_ACCESS_KEY_ID: 'i',
    AWS_REGION: 'eu-west-1',
    openai_api_key: 'k',
    DB_PASSWORD: 'p',
    GOOGLE_APPLICATION_CREDENTIALS: '/x.json',
    REMOTE: 'https://me:ghp_x@github.com/o/r',
    HOMEPAGE: 'https://example.com/a@b',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'core.fsmonitor',
    GIT_CONFIG_VALUE_0: '',
  };
  assert.deepEqual(sandboxEnv(agent, { network: false }), {
    PATH: '/bin',
    AWS_REGION: 'eu-west-1',
    HOMEPAGE: 'https://example.com/a@b',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'core.fsmonitor',
    GIT_CONFIG_VALUE_0: '',
  });
  // a run that may reach a service keeps what it may need to log in there
  assert.deepEqual(sandboxEnv(agent, { network: true }), agent);
});
