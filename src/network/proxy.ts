/**
 * warden's domain proxy: the one way out of a sandbox that has domains allowed. Does I/O (sockets, DNS).
 *
 * One `DomainProxy` per warden process, started on first use (`domainProxy()`), shared by concurrent
 * requests and closed with the process. Each sandboxed run gets its own listener on a Unix socket in a
 * private directory (held by the splice helper, splicer.ts), so every connection is attributed to its
 * run and judged by that run's lists (domainPolicy.ts). Inside the sandbox, native/warden-netns.c
 * accepts on 127.0.0.1:PORT and passes each connection's socket to that listener, which hands it here.
 *
 * One listener speaks three protocols, told apart by the first byte: SOCKS5 (0x05), HTTP CONNECT (for
 * https, and ssh through `warden-netns connect`) and plain HTTP with an absolute URI. Only TCP CONNECT is
 * offered: SOCKS BIND and UDP ASSOCIATE are refused, so UDP and QUIC fail closed. The proxy resolves the
 * name itself, checks the addresses, and connects to a checked address, never to the name again.
 *
 * Once a connection is judged and its upstream open, the proxy's last bytes (its answer, the request
 * head) are written and both sockets go to the splicer (splicer.ts), which relays them outside node;
 * connections are counted when they open, never per chunk.
 *
 * A proxy failure (crashed listener, closed process) refuses connections; it never opens the network:
 * the sandbox has no route anywhere else.
 */
import { lookup } from 'node:dns/promises';
import { proxySocketRoot } from './socketRoot.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createConnection, isIP, Socket } from 'node:net';
import { join } from 'node:path';
import { decideAddresses, decideHost, normalizeHost, type DomainLists } from './domainPolicy.ts';
import type { DomainRefusalKind } from '../policy.ts';
import { resumeReading, Splicer, stopReading } from './splicer.ts';

/** What one run's connections did: recorded in SandboxRunFinished. */
export interface NetworkUse {
  /** Connections made, per host. */
  allowed: Record<string, number>;
  /** Connections refused, per host, with the first reason and its kind. */
  refused: Array<{ host: string; reason: string; kind: DomainRefusalKind; count: number }>;
}

export interface ProxyRun {
  /** The Unix socket the in-sandbox relay connects to. */
  readonly socketPath: string;
  /** The directory holding it (bound read-only into the sandbox so the command cannot swap it). */
  readonly dir: string;
  use(): NetworkUse;
  close(): Promise<void>;
}

export type Resolver = (host: string) => Promise<string[]>;

const MAX_HEAD = 64 * 1024;
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Test-only name overrides, `name=address[,name=address]`, so tests reach 127.0.0.1 servers under
 * made-up names without editing /etc/hosts. Read from warden's own environment (which the agent does
 * not set); the listed names still go through every check (an override to 127.0.0.1 is refused unless
 * the name is listed exactly).
 */
function overrides(): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (process.env.WARDEN_TEST_RESOLVE ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) out.set(pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim());
  }
  return out;
}

export const systemResolver: Resolver = async (host) => {
  const fixed = overrides().get(host.toLowerCase());
  if (fixed !== undefined) return [fixed];
  if (isIP(host) !== 0) return [host];
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

interface Refusal {
  reason: string;
  kind: DomainRefusalKind;
}

interface Target {
  host: string;
  port: number;
}

/** The proxy's fixed answers once a connection is allowed, made once (written read-only to every client). */
const CONNECT_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');
/** SOCKS5 reply: version 5, succeeded, reserved, an IPv4 bind address 0.0.0.0:0. */
const SOCKS_SUCCEEDED = Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

export class DomainProxy {
  private readonly runs = new Set<RunListener>();
  /** Runs' directories still being removed (in the background, after their runs ended). */
  private readonly removals = new Set<Promise<void>>();
  private dirRoot: string | null = null;
  private counter = 0;
  private readonly splicer: Splicer;

  constructor(
    private readonly resolve: Resolver = systemResolver,
    splicer?: Splicer,
  ) {
    this.splicer = splicer ?? new Splicer();
  }

  /** A listener for one run; does I/O. */
  async openRun(lists: DomainLists): Promise<ProxyRun> {
    this.dirRoot ??= mkdtempSync(join(proxySocketRoot(), `p${process.pid}-`));
    const id = this.counter++;
    const dir = mkdtempSync(join(this.dirRoot, `r${id}-`));
    const run = new RunListener(lists, this.resolve, dir, id, this.splicer, (removed) => {
      this.runs.delete(run);
      this.removals.add(removed);
      void removed.then(() => this.removals.delete(removed));
    });
    try {
      await run.listen();
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.runs.add(run);
    return run;
  }

  async close(): Promise<void> {
    await Promise.all([...[...this.runs].map((r) => r.close()), ...this.removals]);
    this.splicer.close();
    this.removeSockets();
  }

  /** Synchronous, so it can run at process exit: the sockets' directory goes with the process. */
  removeSockets(): void {
    if (this.dirRoot !== null) rmSync(this.dirRoot, { recursive: true, force: true });
    this.dirRoot = null;
  }
}

let shared: DomainProxy | null = null;

/** The process's proxy, created on first use and closed when the process exits. */
export function domainProxy(): DomainProxy {
  if (shared === null) {
    const proxy = new DomainProxy();
    shared = proxy;
    process.once('exit', () => proxy.removeSockets());
  }
  return shared;
}

class RunListener implements ProxyRun {
  readonly socketPath: string;
  private readonly allowed = new Map<string, number>();
  private readonly refused = new Map<string, { reason: string; kind: DomainRefusalKind; count: number }>();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly lists: DomainLists,
    private readonly resolve: Resolver,
    readonly dir: string,
    private readonly id: number,
    private readonly splicer: Splicer,
    private readonly onClose: (removed: Promise<void>) => void,
  ) {
    this.socketPath = join(dir, 'proxy.sock');
  }

  /**
   * The splice helper listens for this run (the relay passes it each connection's socket, which it
   * hands here); without the helper the run has no way out and this rejects (fail closed).
   */
  listen(): Promise<void> {
    return this.splicer.listen(this.id, this.socketPath, (s) => {
      if (this.closing !== null) s.destroy();
      else this.accept(s);
    });
  }

  use(): NetworkUse {
    return {
      allowed: Object.fromEntries(this.allowed),
      refused: [...this.refused].map(([host, r]) => ({ host, reason: r.reason, kind: r.kind, count: r.count })),
    };
  }

  /**
   * Ends the run's connections and stops its listener at once: nothing connects after this returns.
   * The listener's directory is removed in the background (removing it took ~1 ms of the run's
   * start-up budget, spent after the command had already ended); the promise settles when it is gone.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    for (const s of this.sockets) s.destroy();
    this.splicer.closeRun(this.id);
    this.closing = rm(this.dir, { recursive: true, force: true }).catch(() => {});
    this.onClose(this.closing);
    return this.closing;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  /**
   * Keyed by the normalized name (`Registry.Test.` is `registry.test`): the name a person is asked
   * about must be the one the policy then matches, or a yes would not open what it named.
   */
  private refuse(host: string, why: Refusal): void {
    const key = normalizeHost(host) ?? host.toLowerCase();
    const r = this.refused.get(key);
    if (r) r.count++;
    else this.refused.set(key, { reason: why.reason, kind: why.kind, count: 1 });
  }

  private count(host: string): void {
    const key = normalizeHost(host) ?? host.toLowerCase();
    this.allowed.set(key, (this.allowed.get(key) ?? 0) + 1);
  }

  /** Policy, resolution and address checks; the socket to the checked address, or why it is refused. */
  private async open(target: Target): Promise<Socket | Refusal> {
    const verdict = decideHost(this.lists, target.host);
    if (!verdict.ok) return verdict;
    let addresses: string[];
    try {
      addresses = await this.resolve(target.host);
    } catch {
      addresses = [];
    }
    const checked = decideAddresses(this.lists, target.host, verdict.exact, addresses);
    if (!checked.ok) return checked;
    const upstream = createConnection({ host: checked.addresses[0]!, port: target.port });
    // Paused before it connects, so node never reads from it: whatever the server sends first (an ssh
    // banner) stays in the kernel for the splicer.
    upstream.pause();
    this.track(upstream);
    return await new Promise<Socket | Refusal>((ok) => {
      const timer = setTimeout(() => {
        upstream.destroy();
        ok({ reason: `${target.host}:${target.port} did not answer`, kind: 'unreachable' });
      }, CONNECT_TIMEOUT_MS);
      upstream.once('connect', () => {
        clearTimeout(timer);
        ok(upstream);
      });
      upstream.once('error', (err) => {
        clearTimeout(timer);
        ok({ reason: `${target.host}:${target.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, kind: 'unreachable' });
      });
    });
  }

  private accept(client: Socket): void {
    this.track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head[0] === 0x05) {
        client.off('data', onData);
        client.pause();
        void this.socks(client, head);
        return;
      }
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) client.end('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
        return;
      }
      client.off('data', onData);
      // Nothing after this chunk is read into node: it stays in the kernel for the splicer.
      stopReading(client);
      client.pause();
      void this.http(client, head.subarray(0, end + 4), head.subarray(end + 4));
    };
    client.on('data', onData);
  }

  private async http(client: Socket, head: Buffer, rest: Buffer): Promise<void> {
    const text = head.toString('latin1');
    const [requestLine = '', ...headerLines] = text.split('\r\n');
    const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(requestLine);
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const [, method, target, version] = m as unknown as [string, string, string, string];
    let dest: Target | null;
    let forward: Buffer | null = null;
    if (method === 'CONNECT') {
      dest = parseAuthority(target, 443);
    } else {
      let url: URL | null = null;
      try {
        url = new URL(target);
      } catch {
        url = null;
      }
      if (url === null || url.protocol !== 'http:') {
        return void client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nonly http:// URLs and CONNECT\r\n');
      }
      dest = { host: url.hostname, port: url.port === '' ? 80 : Number(url.port) };
      // Origin form, no proxy headers, one request per connection so every request is judged.
      const kept = headerLines.filter((l) => l !== '' && !/^(proxy-|connection:|keep-alive:)/i.test(l));
      forward = Buffer.from(`${method} ${url.pathname}${url.search} ${version}\r\n${[...kept, 'Connection: close'].join('\r\n')}\r\n\r\n`, 'latin1');
    }
    if (dest === null) return void client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const upstream = await this.open(dest);
    const host = (dest.host.startsWith('[') ? dest.host.slice(1, -1) : dest.host).toLowerCase();
    if (!(upstream instanceof Socket)) {
      this.refuse(host, upstream);
      return void client.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nwarden: ${upstream.reason}\r\n`);
    }
    this.count(host);
    this.join(client, upstream, forward === null ? CONNECT_ESTABLISHED : null, forward === null ? [rest] : [forward, rest]);
  }

  /**
   * The handshake is over: the proxy's own last bytes are written (its answer to the client; the
   * request head and any early bytes to upstream), then the two sockets are handed to the splicer,
   * or piped here when it cannot take them.
   */
  private join(client: Socket, upstream: Socket, toClient: Buffer | null, toUpstream: Buffer[]): void {
    stopReading(upstream); // paused since before it connected; now kept from reading ahead as well
    upstream.setNoDelay(true);
    let pending = 1;
    const written = () => {
      if (--pending > 0) return;
      if (client.destroyed || upstream.destroyed) {
        client.destroy();
        upstream.destroy();
        return;
      }
      if (this.splicer.hand(this.id, client, upstream)) return;
      resumeReading(client);
      resumeReading(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    if (toClient !== null) {
      pending++;
      client.write(toClient, written);
    }
    for (const b of toUpstream) {
      if (b.length === 0) continue;
      pending++;
      upstream.write(b, written);
    }
    written();
  }

  private async socks(client: Socket, first: Buffer): Promise<void> {
    const reader = new ByteReader(client, first);
    const fail = (code: number) => client.end(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
    try {
      const [, nmethods] = await reader.take(2);
      const methods = await reader.take(nmethods!);
      if (!methods.includes(0)) return void client.end(Buffer.from([5, 0xff]));
      client.write(Buffer.from([5, 0]));
      const [ver, cmd, , atyp] = await reader.take(4);
      if (ver !== 5) return void client.destroy();
      let host: string;
      if (atyp === 1) host = [...(await reader.take(4))].join('.');
      else if (atyp === 3) host = (await reader.take((await reader.take(1))[0]!)).toString('latin1');
      else if (atyp === 4) {
        const b = await reader.take(16);
        host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
      } else return void fail(8);
      const port = (await reader.take(2)).readUInt16BE(0);
      if (cmd !== 1) {
        this.refuse(host, { reason: 'only TCP connections are proxied (no UDP, no BIND)', kind: 'protocol' });
        return void fail(7);
      }
      const upstream = await this.open({ host, port });
      if (!(upstream instanceof Socket)) {
        this.refuse(host, upstream);
        return void fail(2);
      }
      this.count(host);
      this.join(client, upstream, SOCKS_SUCCEEDED, [reader.rest()]);
    } catch {
      client.destroy();
    }
  }
}

/** `host:port` or `[v6]:port`. */
function parseAuthority(authority: string, defaultPort: number): Target | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port > 0 && port < 65536)) return null;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

/** Reads exact byte counts from a paused socket (SOCKS handshakes arrive in any chunking). */
class ByteReader {
  private buf: Buffer;
  private waiting: (() => void) | null = null;
  private ended = false;
  constructor(private readonly socket: Socket, first: Buffer) {
    this.buf = first;
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      if (this.buf.length > MAX_HEAD) socket.destroy();
      this.waiting?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.waiting?.();
    });
    socket.resume();
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.ended) throw new Error('short read');
      await new Promise<void>((ok) => (this.waiting = ok));
      this.waiting = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** What arrived after the handshake; the socket is paused and handed over to a pipe. */
  rest(): Buffer {
    this.socket.removeAllListeners('data');
    stopReading(this.socket);
    this.socket.pause();
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}
