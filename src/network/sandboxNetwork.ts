/**
 * What a bwrap run with allowed domains adds to its sandbox: the in-sandbox relay (native/warden-netns)
 * in front of the command, the proxy variables that tools read, and a per-run listener on the process's
 * domain proxy (proxy.ts). Does I/O (opens the listener); runCommand calls it and records `use()`.
 *
 * The run keeps its own empty network namespace; the relay is its only way out. Tools that ignore the
 * proxy variables find no route and fail closed (docs/network.md).
 */
import { existsSync } from 'node:fs';
import type { DomainLists } from './domainPolicy.ts';
import { domainProxy, type NetworkUse } from './proxy.ts';
import { NETNS_HELPER } from './splicer.ts';

/** Inside the sandbox's own namespace, so fixed ports cannot collide with anything on the host. */
export const HTTP_PROXY_PORT = 3128;
export const SOCKS_PROXY_PORT = 1080;

export { NETNS_HELPER };

export class NetworkHelperMissingError extends Error {
  constructor() {
    super(
      `the network relay ${NETNS_HELPER} is missing, so allowed domains cannot be reached; ` +
        'build it with `npm run build` (needs a C compiler: cc)',
    );
    this.name = 'NetworkHelperMissingError';
  }
}

export interface SandboxNetwork {
  /** argv that runs `command` behind the relay, which reads the seccomp program from `filterFd`. */
  wrap(command: string[], filterFd: number): string[];
  /** Proxy settings for the command's environment. */
  env: Record<string, string>;
  /** Paths to bind read-only into the sandbox (the listener's directory: it cannot be swapped). */
  readOnly: string[];
  /** Stops the listener; what the run's connections did. */
  finish(): Promise<NetworkUse>;
}

/** Proxy variables, upper and lower case, and the tools that read their own (npm, pip, git, ssh). */
export function proxyEnv(): Record<string, string> {
  const http = `http://127.0.0.1:${HTTP_PROXY_PORT}`;
  const socks = `socks5h://127.0.0.1:${SOCKS_PROXY_PORT}`;
  const env: Record<string, string> = {};
  for (const [k, v] of [
    ['HTTP_PROXY', http],
    ['HTTPS_PROXY', http],
    ['ALL_PROXY', socks],
    // Nothing bypasses the proxy: there is no other route, and the proxy judges loopback names too.
    ['NO_PROXY', ''],
  ] as const) {
    env[k] = v;
    env[k.toLowerCase()] = v;
  }
  env.npm_config_proxy = http;
  env.npm_config_https_proxy = http;
  env.PIP_PROXY = http;
  env.GIT_HTTP_PROXY = http; // not read by git itself; kept for tools that look for it
  // ssh remotes: through the proxy with an HTTP CONNECT made by the relay binary.
  env.GIT_SSH_COMMAND = `ssh -o ProxyCommand='${NETNS_HELPER} connect ${HTTP_PROXY_PORT} %h %p'`;
  return env;
}

export async function openSandboxNetwork(lists: DomainLists): Promise<SandboxNetwork> {
  if (!existsSync(NETNS_HELPER)) throw new NetworkHelperMissingError();
  const run = await domainProxy().openRun(lists);
  return {
    wrap: (command, filterFd) => [
      NETNS_HELPER,
      'run',
      String(filterFd),
      run.socketPath,
      String(HTTP_PROXY_PORT),
      String(SOCKS_PROXY_PORT),
      '--',
      ...command,
    ],
    env: proxyEnv(),
    readOnly: [run.dir],
    finish: async () => {
      const use = run.use();
      // The listener stops now; its directory is removed in the background, after the outcome.
      void run.close();
      return use;
    },
  };
}
