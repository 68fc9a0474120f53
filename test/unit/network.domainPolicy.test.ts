import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decideAddresses,
  decideHost,
  isSpecialAddress,
  parseDomainPattern,
  type DomainLists,
} from '../../src/network/domainPolicy.ts';

const lists = (allow: string[], deny: string[] = []): DomainLists => ({
  allow: allow.map(parseDomainPattern),
  deny: deny.map(parseDomainPattern),
});

// [lists, host, allowed?, why the row exists]
const hostCases: Array<[DomainLists, string, boolean, string]> = [
  [lists(['registry.npmjs.org']), 'registry.npmjs.org', true, 'listed exactly'],
  [lists(['registry.npmjs.org']), 'REGISTRY.npmjs.org.', true, 'case and a trailing dot are the same name'],
  [lists(['registry.npmjs.org']), 'evil-registry.npmjs.org', false, 'not a suffix match without a wildcard'],
  [lists(['registry.npmjs.org']), 'registry.npmjs.org.evil.com', false, 'a listed name as a prefix of another'],
  [lists(['*.github.com']), 'api.github.com', true, 'wildcard matches a subdomain'],
  [lists(['*.github.com']), 'a.b.github.com', true, 'wildcard matches any depth'],
  [lists(['*.github.com']), 'github.com', false, 'wildcard does not match the apex'],
  [lists(['*.github.com']), 'evilgithub.com', false, 'wildcard needs the dot'],
  [lists(['*.github.com'], ['gist.github.com']), 'gist.github.com', false, 'deny wins over allow'],
  [lists(['*.github.com'], ['*.github.com']), 'api.github.com', false, 'deny wildcard wins'],
  [lists(['example.com']), '93.184.216.34', false, 'an IP literal is refused unless listed'],
  [lists(['93.184.216.34']), '93.184.216.34', true, 'a listed address'],
  [lists(['::1']), '[::1]', true, 'a listed v6 address in brackets'],
  [lists([]), 'example.com', false, 'nothing listed: nothing allowed'],
  [lists(['example.com']), 'exa mple.com', false, 'not a host name'],
  [lists(['example.com']), 'example.com\u0000.evil', false, 'NUL in a name'],
];

for (const [l, host, ok, why] of hostCases) {
  test(`decideHost ${host} under allow=${l.allow.join(',')} deny=${l.deny.join(',')}: ${ok ? 'allowed' : 'refused'} (${why})`, () => {
    assert.equal(decideHost(l, host).ok, ok);
  });
}

test('patterns that would open too much or are not names are refused when read', () => {
  for (const bad of ['*.com', '*', '*.1.2.3.4', 'a b', '', '-x.com', 'http://x.com']) {
    assert.throws(() => parseDomainPattern(bad), /not a domain|too broad|wildcard needs/, bad);
  }
});

test('DNS rebinding: a wildcard name that resolves to a local address is refused; the exact name or address opens it', () => {
  const wild = lists(['*.corp.test']);
  const v = decideHost(wild, 'db.corp.test');
  assert.ok(v.ok && !v.exact);
  assert.equal(decideAddresses(wild, 'db.corp.test', false, ['127.0.0.1']).ok, false);
  assert.equal(decideAddresses(wild, 'db.corp.test', false, ['10.1.2.3']).ok, false);
  assert.equal(decideAddresses(wild, 'db.corp.test', false, ['93.184.216.34']).ok, true);
  // Mixed answers: only the public address is usable.
  assert.deepEqual(decideAddresses(wild, 'db.corp.test', false, ['127.0.0.1', '93.184.216.34']), {
    ok: true,
    addresses: ['93.184.216.34'],
  });
  assert.equal(decideAddresses(wild, 'db.corp.test', true, ['127.0.0.1']).ok, true);
  assert.equal(decideAddresses(lists(['*.corp.test', '127.0.0.1']), 'db.corp.test', false, ['127.0.0.1']).ok, true);
  assert.equal(decideAddresses(wild, 'db.corp.test', false, []).ok, false);
});

test('special ranges, v4 and v6 and v4-mapped, are special', () => {
  for (const a of [
    '127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'ff02::1', 'not-an-address',
  ]) {
    assert.equal(isSpecialAddress(a), true, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(isSpecialAddress(a), false, a);
  }
});

test('law: an allowed host never becomes allowed by adding a deny entry, and a host not matching any allow entry is refused', () => {
  const label = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
  const name = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));
  fc.assert(
    fc.property(fc.array(name, { maxLength: 4 }), fc.array(name, { maxLength: 3 }), name, (allow, deny, host) => {
      const base = decideHost(lists(allow), host);
      const withDeny = decideHost(lists(allow, deny), host);
      if (!base.ok) assert.equal(withDeny.ok, false);
      if (!allow.some((a) => a === host)) assert.equal(base.ok, false);
    }),
    { seed: 17, numRuns: 300 },
  );
});
