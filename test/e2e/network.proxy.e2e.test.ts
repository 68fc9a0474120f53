/**
 * Network by domain, as the kernel and real tools see it: real bwrap, the real relay binary, warden's
 * proxy on real sockets, curl, git and npm inside the sandbox, servers on 127.0.0.1 reached under test
 * names (WARDEN_TEST_RESOLVE, never /etc/hosts). Fails, never skips, without bwrap or the relay.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { NETNS_HELPER } from '../../src/network/sandboxNetwork.ts';
import { domainProxy } from '../../src/network/proxy.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';
import { listenOnLoopback } from '../support/loopback.ts';
import { eventually } from '../support/eventually.ts';

let base: string;
let httpServer: HttpServer;
let httpsServer: HttpServer;
let httpPort = 0;
let httpsPort = 0;
let unixServer: NetServer;
let unixPath: string;
let repoDir: string;

const spec = (allow: string[], deny: string[] = []): SandboxSpec => ({
  mode: 'workspace-write',
  writableRoots: [],
  network: false,
  tmpWrite: true,
  domains: { allow, deny },
});
const sh = (script: string, s: SandboxSpec, timeoutMs = 60_000) =>
  runCommand({ command: ['sh', '-c', script], cwd: base, sandboxSpec: s, timeoutMs });

function serveStatic(root: string) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root) || !existsSync(path) || statSync(path).isDirectory()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.end(readFileSync(path));
  };
}

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'warden-net-e2e-'));
  assert.ok(existsSync(NETNS_HELPER), `the relay is built by npm run build: ${NETNS_HELPER}`);
  const www = join(base, 'www');
  mkdirSync(www);
  writeFileSync(join(www, 'hello.txt'), 'hello through the proxy\n');

  // A repository served over git's dumb HTTP protocol (static files after update-server-info).
  const src = join(base, 'src-repo');
  mkdirSync(src);
  const git = (args: string[], cwd: string) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'pipe' });
  git(['init', '-q'], src);
  writeFileSync(join(src, 'README'), 'cloned over http\n');
  git(['add', 'README'], src);
  git(['commit', '-qm', 'one'], src);
  repoDir = join(www, 'repo.git');
  git(['clone', '-q', '--bare', src, repoDir], base);
  git(['update-server-info'], repoDir);

  // A registry stand-in: one package's metadata and tarball, as npm fetches them.
  const pkgDir = join(base, 'pkg', 'package');
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'warden-probe', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(pkgDir, 'index.js'), 'module.exports = 42;\n');
  execFileSync('tar', ['-czf', join(www, 'warden-probe-1.0.0.tgz'), '-C', join(base, 'pkg'), 'package']);
  const tgz = readFileSync(join(www, 'warden-probe-1.0.0.tgz'));

  httpServer = createHttpServer((req, res) => {
    if (req.url === '/warden-probe') {
      const shasum = createHash('sha1').update(tgz).digest('hex');
      const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          name: 'warden-probe',
          'dist-tags': { latest: '1.0.0' },
          versions: {
            '1.0.0': {
              name: 'warden-probe',
              version: '1.0.0',
              dist: { tarball: `http://registry.test:${httpPort}/warden-probe-1.0.0.tgz`, shasum, integrity },
            },
          },
        }),
      );
      return;
    }
    serveStatic(www)(req, res);
  });
  httpPort = await listenOnLoopback(httpServer);

  const key = join(base, 'key.pem');
  const cert = join(base, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=secure.test'], { stdio: 'pipe' });
  httpsServer = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('hello over tls\n'));
  httpsPort = await listenOnLoopback(httpsServer);

  unixPath = join(base, 'host.sock');
  unixServer = createNetServer((s) => s.end('host socket reached\n'));
  await new Promise<void>((ok) => unixServer.listen(unixPath, () => ok()));

  process.env.WARDEN_TEST_RESOLVE = ['allowed.test', 'other.test', 'a.wild.test', 'secure.test', 'registry.test', 'git.test']
    .map((n) => `${n}=127.0.0.1`)
    .join(',');
});

after(async () => {
  await domainProxy().close();
  httpServer.close();
  httpsServer.close();
  unixServer.close();
  rmSync(base, { recursive: true, force: true });
});

test('an allowed name is reached through the proxy and counted; another name is refused, recorded and named in the denial', async () => {
  const ok = await sh(`curl -sS --max-time 20 http://allowed.test:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(ok.stdout, 'hello through the proxy\n');
  assert.deepEqual(ok.network, { allowed: { 'allowed.test': 1 }, refused: [] });
  assert.equal(ok.denial.denied, false);

  const no = await sh(`curl -sS -f --max-time 20 http://other.test:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.notEqual(no.exitCode, 0);
  assert.equal(no.stdout, '');
  assert.deepEqual(no.network?.allowed, {});
  assert.equal(no.network?.refused[0]?.host, 'other.test');
  assert.equal(no.denial.denied, true);
  assert.match(no.denial.what ?? '', /network access to other\.test refused: other\.test is not in the allowed domains/);
});

test('DNS rebinding: a wildcard-allowed name that resolves to 127.0.0.1 is refused', async () => {
  const r = await sh(`curl -sS -f --max-time 20 http://a.wild.test:${httpPort}/hello.txt`, spec(['*.wild.test']));
  assert.notEqual(r.exitCode, 0);
  assert.match(r.network?.refused[0]?.reason ?? '', /resolves to 127\.0\.0\.1, a local or private address/);
});

test('raw IP literals are refused unless the address is listed', async () => {
  const r = await sh(`curl -sS -f --max-time 20 http://127.0.0.1:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.notEqual(r.exitCode, 0);
  assert.match(r.network?.refused[0]?.reason ?? '', /127\.0\.0\.1 is an address that is not allowed/);
  const listed = await sh(`curl -sS -f --max-time 20 http://127.0.0.1:${httpPort}/hello.txt`, spec(['127.0.0.1']));
  assert.equal(listed.exitCode, 0, listed.stderr);
});

test('https through CONNECT, and SOCKS5 with the name resolved by the proxy', async () => {
  const tls = await sh(`curl -sS -k --max-time 20 https://secure.test:${httpsPort}/`, spec(['secure.test']));
  assert.equal(tls.exitCode, 0, tls.stderr);
  assert.equal(tls.stdout, 'hello over tls\n');
  const socks = await sh(`curl -sS --max-time 20 -x "$ALL_PROXY" http://allowed.test:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.equal(socks.exitCode, 0, socks.stderr);
  assert.equal(socks.stdout, 'hello through the proxy\n');
});

test('nothing goes around the proxy: direct TCP to the host, host Unix sockets and UDP all fail', async () => {
  const direct = await sh(`curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.notEqual(direct.exitCode, 0);
  assert.equal(direct.stdout, '');
  const unix = await sh(`curl -sS --max-time 5 --unix-socket ${unixPath} http://x/`, spec(['allowed.test']));
  assert.notEqual(unix.exitCode, 0);
  assert.doesNotMatch(unix.stdout, /host socket reached/);
  const py = await sh(
    `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('${unixPath}'); print(s.recv(100))"`,
    spec(['allowed.test']),
  );
  assert.notEqual(py.exitCode, 0);
  assert.match(py.stderr, /PermissionError|Operation not permitted/);
  const udp = await sh(`python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('8.8.8.8', 53))"`, spec(['allowed.test']));
  assert.notEqual(udp.exitCode, 0);
});

test('git clone over http through the proxy', async () => {
  const dest = join(base, `clone-${Date.now()}`);
  const r = await sh(`git clone -q http://git.test:${httpPort}/repo.git ${dest} && cat ${dest}/README`, spec(['git.test']), 120_000);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'cloned over http\n');
  assert.ok((r.network?.allowed['git.test'] ?? 0) >= 1);
});

test('npm install from a registry whose name is allowed', async () => {
  const proj = join(base, `proj-${Date.now()}`);
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0' }));
  const r = await runCommand({
    command: ['npm', 'install', '--no-audit', '--no-fund', '--registry', `http://registry.test:${httpPort}/`, '--cache', join(proj, '.cache'), 'warden-probe'],
    cwd: proj,
    sandboxSpec: spec(['registry.test']),
    timeoutMs: 120_000,
  });
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  assert.equal(readFileSync(join(proj, 'node_modules/warden-probe/index.js'), 'utf8'), 'module.exports = 42;\n');
});

test('a refused name is recorded as the policy reads it: a yes to what the person was shown opens that name', async () => {
  // curl passes the host as written; the record (and so the question) uses the normalized name
  const r = await sh(`curl -sS -f --max-time 20 http://Other.TEST.:${httpPort}/hello.txt`, spec(['allowed.test']));
  assert.notEqual(r.exitCode, 0);
  assert.equal(r.network?.refused[0]?.host, 'other.test');
  assert.equal(r.network?.refused[0]?.kind, 'not-allowed');
  assert.deepEqual(r.denial.domains, ['other.test']);
});

/** Every domain proxy socket on the machine, where this version or an older one keeps them. */
function proxySockets(): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'proxy.sock') out.push(join(dir, name));
      else if (depth > 0) walk(join(dir, name), depth - 1);
    }
  };
  for (const top of [tmpdir(), '/dev/shm']) {
    let names: string[] = [];
    try {
      names = readdirSync(top);
    } catch {
      continue;
    }
    for (const name of names) if (name.startsWith('warden-net-') && !name.startsWith('warden-net-e2e-')) walk(join(top, name), 3);
  }
  return out;
}

test('a command of another run (no network, /tmp and /dev/shm writable) can neither see nor replace a proxy run\'s socket; that run gets through', async () => {
  // Red team: the socket directories were made in /tmp; a network-off command (its filter lets it
  // bind a Unix socket) moved a proxy run's proxy.sock aside and bound its own at that path, and
  // the proxy run's relay connected to it, handing it the run's traffic.
  const before = new Set(proxySockets());
  const go = join(base, `go-${process.pid}`);
  const b = sh(`while [ ! -e ${go} ]; do sleep 0.05; done; curl -sS --max-time 20 http://allowed.test:${httpPort}/hello.txt`, spec(['allowed.test']));
  const mine = await eventually(() => {
    const fresh = proxySockets().filter((p) => !before.has(p));
    return fresh.length > 0 ? fresh : null;
  }, 30_000, 'the proxy run\'s socket');
  const attack = mine.map((p) => `ls -a ${p.slice(0, p.lastIndexOf('/'))}; mv ${p} ${p}.moved && echo MOVED; mkdir -p ${p.slice(0, p.lastIndexOf('/'))} && : > ${p} && echo PLANTED`).join('; ');
  const a = await runCommand({
    command: ['sh', '-c', `${attack}; echo a-done`],
    cwd: base,
    sandboxSpec: { mode: 'workspace-write', writableRoots: ['/dev/shm'], network: false, tmpWrite: true },
  });
  writeFileSync(go, '');
  const rb = await b;
  assert.match(a.stdout, /a-done\n$/, a.stderr);
  assert.doesNotMatch(a.stdout, /MOVED|PLANTED|proxy\.sock/, a.stdout);
  for (const p of mine) assert.ok(statSync(p).isSocket(), `${p} was replaced on the host`);
  assert.equal(rb.stdout, 'hello through the proxy\n', rb.stderr);
});
