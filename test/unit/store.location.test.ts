/** Where the store lives: --store, then WARDEN_STORE, then XDG_STATE_HOME, then ~/.local/state. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { describeStoreLocation, resolveStoreLocation } from '../../src/events/storeLocation.ts';

const home = '/home/ada';
const cwd = '/work/project';

const cases: Array<[string, { flag?: string; env: NodeJS.ProcessEnv }, ReturnType<typeof resolveStoreLocation>]> = [
  ['flag wins over everything', { flag: '/tmp/f.db', env: { WARDEN_STORE: '/tmp/e.db', XDG_STATE_HOME: '/x' } }, { kind: 'sqlite', path: '/tmp/f.db' }],
  ['then WARDEN_STORE', { env: { WARDEN_STORE: '/tmp/e.db', XDG_STATE_HOME: '/x' } }, { kind: 'sqlite', path: '/tmp/e.db' }],
  ['then XDG_STATE_HOME', { env: { XDG_STATE_HOME: '/x/state' } }, { kind: 'sqlite', path: '/x/state/warden/events.db' }],
  ['then ~/.local/state', { env: {} }, { kind: 'sqlite', path: '/home/ada/.local/state/warden/events.db' }],
  ['an empty flag or variable counts as unset', { flag: '', env: { WARDEN_STORE: ' ', XDG_STATE_HOME: '' } }, { kind: 'sqlite', path: '/home/ada/.local/state/warden/events.db' }],
  ['a relative XDG_STATE_HOME is ignored (XDG spec)', { env: { XDG_STATE_HOME: 'rel/state' } }, { kind: 'sqlite', path: '/home/ada/.local/state/warden/events.db' }],
  ['a relative path is taken from the cwd', { flag: 'data/events.db', env: {} }, { kind: 'sqlite', path: '/work/project/data/events.db' }],
  ['~ expands to the home folder', { flag: '~/w.db', env: {} }, { kind: 'sqlite', path: '/home/ada/w.db' }],
  ['postgres:// selects PostgreSQL', { flag: 'postgres://u@db:5432/warden', env: {} }, { kind: 'postgres', url: 'postgres://u@db:5432/warden' }],
  ['postgresql:// too, from the environment', { env: { WARDEN_STORE: 'postgresql://u@db/warden' } }, { kind: 'postgres', url: 'postgresql://u@db/warden' }],
  ['a postgres flag beats a file in the environment', { flag: 'POSTGRES://u@db/w', env: { WARDEN_STORE: '/tmp/e.db' } }, { kind: 'postgres', url: 'POSTGRES://u@db/w' }],
  ['a file named like a URL without :// is a file', { flag: 'postgres-backup.db', env: {} }, { kind: 'sqlite', path: '/work/project/postgres-backup.db' }],
];

for (const [name, input, expected] of cases) {
  test(`store location: ${name}`, () => {
    assert.deepEqual(resolveStoreLocation({ ...input, home, cwd }), expected);
  });
}

test('store location: a printed URL never shows the password', () => {
  const shown = describeStoreLocation({ kind: 'postgres', url: 'postgres://warden:s3cret@db.internal:5432/audit' });
  assert.ok(!shown.includes('s3cret'), shown);
  assert.match(shown, /warden:\*\*\*@db\.internal:5432\/audit/);
});
