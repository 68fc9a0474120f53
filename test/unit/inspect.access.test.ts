/**
 * Who may use the inspector: the token holder, on our own Host, and for POSTs from our own Origin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccess, cookieValue, newToken, tokenMatches } from '../../src/inspect/access.ts';

const TOKEN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV';
const PORT = 4321;
const HOST = `127.0.0.1:${PORT}`;
const ORIGIN = `http://127.0.0.1:${PORT}`;

test('tokens are 24 random bytes, base64url', () => {
  const a = newToken();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a, newToken());
});

test('token comparison', () => {
  assert.equal(tokenMatches(TOKEN, TOKEN), true);
  assert.equal(tokenMatches(TOKEN, TOKEN.slice(1)), false);
  assert.equal(tokenMatches(TOKEN, `${TOKEN}x`), false);
  assert.equal(tokenMatches(TOKEN, ''), false);
  assert.equal(tokenMatches(TOKEN, null), false);
  assert.equal(tokenMatches(TOKEN, undefined), false);
});

test('cookie parsing', () => {
  assert.equal(cookieValue('a=1; warden_inspect=t0k; b=2', 'warden_inspect'), 't0k');
  assert.equal(cookieValue('xwarden_inspect=t0k', 'warden_inspect'), null);
  assert.equal(cookieValue(undefined, 'warden_inspect'), null);
});

type Req = Parameters<typeof checkAccess>[2];
const cases: Array<[string, Req, 'ok' | 401 | 403]> = [
  ['page with the token in the query', { method: 'GET', path: '/', host: HOST, queryToken: TOKEN }, 'ok'],
  ['page without a token', { method: 'GET', path: '/', host: HOST }, 401],
  ['page with a wrong token', { method: 'GET', path: '/', host: HOST, queryToken: 'nope' }, 401],
  // the query token opens only the page: API URLs never need it (nor leak it)
  ['API with the token only in the query', { method: 'GET', path: '/api/requests', host: HOST, queryToken: TOKEN }, 401],
  ['API with the cookie', { method: 'GET', path: '/api/requests', host: HOST, cookie: `warden_inspect=${TOKEN}` }, 'ok'],
  ['API with the header', { method: 'GET', path: '/api/requests', host: HOST, header: TOKEN }, 'ok'],
  ['API with a wrong cookie', { method: 'GET', path: '/api/requests', host: HOST, cookie: 'warden_inspect=x' }, 401],
  // DNS rebinding: the attacker's name in Host
  ['foreign Host, right token', { method: 'GET', path: '/', host: `evil.example:${PORT}`, queryToken: TOKEN }, 403],
  ['localhost Host', { method: 'GET', path: '/', host: `localhost:${PORT}`, queryToken: TOKEN }, 'ok'],
  ['POST from our origin', { method: 'POST', path: '/api/requests/r/decide', host: HOST, cookie: `warden_inspect=${TOKEN}`, origin: ORIGIN }, 'ok'],
  // CSRF: a foreign page posting with the browser's cookie
  ['POST from a foreign origin', { method: 'POST', path: '/api/requests/r/decide', host: HOST, cookie: `warden_inspect=${TOKEN}`, origin: 'http://evil.example' }, 403],
  ['POST from another port', { method: 'POST', path: '/api/requests/r/decide', host: HOST, header: TOKEN, origin: 'http://127.0.0.1:1' }, 403],
  ['POST without Origin', { method: 'POST', path: '/api/requests/r/decide', host: HOST, header: TOKEN }, 403],
  ['POST with the null origin', { method: 'POST', path: '/api/requests/r/decide', host: HOST, header: TOKEN, origin: 'null' }, 403],
  ['POST without a token', { method: 'POST', path: '/api/requests/r/decide', host: HOST, origin: ORIGIN }, 401],
];

for (const [name, req, expected] of cases) {
  test(`access: ${name} -> ${expected}`, () => {
    const verdict = checkAccess(TOKEN, PORT, req);
    if (expected === 'ok') assert.equal(verdict.ok, true, JSON.stringify(verdict));
    else assert.equal(verdict.ok ? 'ok' : verdict.status, expected);
  });
}
