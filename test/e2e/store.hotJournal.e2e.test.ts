/**
 * A planted rollback journal must not rewrite the store (red team, issue #13). SQLite rolls a "hot"
 * `<db>-journal` back into the database the next time any connection opens it, before it looks at
 * the WAL: a 512-byte header that says "the database had 1 page" truncates the store to one page,
 * and every record is lost. The sandbox hides the store, `-wal` and `-shm` only when they exist, and
 * the store's directory cannot be hidden when it is /tmp or holds the workspace, so a sandboxed
 * command could create the journal (the path is in /proc/self/mountinfo). Before the fix the store
 * inside the workspace shrank from 53248 to 4096 bytes. Real CLI, real bwrap.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARDEN } from '../support/cli.ts';

let base: string;
before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hotjournal-')));
});
after(() => rmSync(base, { recursive: true, force: true }));

const q = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;
/** Journal magic, nRec 0, nonce 0, original size 1 page, sector 512, page 4096; padded to one sector. */
const HOT_HEADER = String.raw`\331\325\005\371\040\241\143\327\000\000\000\000\000\000\000\000\000\000\000\001\000\000\002\000\000\000\020\000`;

const PLACES = [
  { name: 'in /tmp', store: (ws: string) => join(base, `tmp-${ws.length}`, 'events.db') },
  { name: 'inside the workspace', store: (ws: string) => join(ws, 'events.db') },
];

for (const place of PLACES) {
  test(`the store ${place.name}: a sandboxed command cannot plant a journal that truncates it`, () => {
    const ws = join(base, `ws-${place.name.replace(/\W+/g, '-')}`);
    mkdirSync(ws, { recursive: true });
    const db = place.store(ws);
    const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_LOG: 'silent' };
    delete env.WARDEN_STORE;
    const run = (args: string[]) => spawnSync(process.execPath, [WARDEN, ...args], { cwd: ws, env, encoding: 'utf8', timeout: 120_000 });
    // Some records first, so that losing them shows.
    for (let i = 0; i < 3; i++) assert.equal(run(['exec', '--store', db, '--approval', 'never', '--', 'echo', `record-${i}`]).status, 0);
    const before = statSync(db).size;
    const attack = `{ printf '${HOT_HEADER}'; head -c 484 /dev/zero; } > ${q(`${db}-journal`)} && echo PLANTED; true`;
    const r = run(['exec', '--store', db, '--approval', 'never', '--sandbox', 'workspace-write', '--', 'sh', '-c', attack]);
    assert.equal(r.status, 0, r.stderr);
    // Whatever happened inside, opening the store again must not lose a record: a planted journal
    // makes warden refuse to open it (it names the journal), never play it back.
    const refused = run(['verify', '--store', db]);
    if (r.stdout.includes('PLANTED')) {
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr + refused.stdout, /-journal exists beside the event store/);
    }
    run(['audit', '--store', db, '--json']);
    assert.ok(statSync(db).size >= before, `the store shrank from ${before} to ${statSync(db).size} bytes (stdout: ${r.stdout})`);
    if (existsSync(`${db}-journal`) && statSync(`${db}-journal`).size > 0) rmSync(`${db}-journal`);
    const verify = run(['verify', '--store', db]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const audit = run(['audit', '--store', db, '--json']);
    for (let i = 0; i < 3; i++) assert.match(audit.stdout, new RegExp(`record-${i}`));
    // And the journal cannot be created from inside at all (a missing `-journal` of a hidden store is
    // masked, src/sandbox/bwrapArgs.ts), and no empty mount point is left behind.
    assert.ok(!r.stdout.includes('PLANTED'), 'the journal could be created from inside the sandbox');
    assert.ok(!existsSync(`${db}-journal`), 'the mask file was left behind');
  });
}
