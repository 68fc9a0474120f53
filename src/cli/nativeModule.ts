/**
 * better-sqlite3 is a native addon built for one Node ABI at install time. Running warden under
 * another Node (nvm switch, distro upgrade) fails inside `new Database()` with ERR_DLOPEN_FAILED,
 * which the store wraps as "cannot open the event store": that blames a healthy file. This turns
 * such a failure into the one line that says what is wrong and how to fix it. Pure but for
 * resolving better-sqlite3's folder.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && chain.length < 8; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** Where `npm rebuild better-sqlite3` must run: the folder that holds its node_modules. */
function projectDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
    return dirname(dirname(dirname(pkg)));
  } catch {
    return null;
  }
}

/** The message for a native-module load failure anywhere in the cause chain, else null. */
export function nativeModuleHint(error: unknown): string | null {
  const native = causes(error).find((e) => {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : '';
    return (code === 'ERR_DLOPEN_FAILED' && /better[-_]sqlite3/.test(message)) || /Could not locate the bindings file/.test(message);
  });
  if (native === undefined) return null;
  const message = (native as Error).message.replace(/\s+/g, ' ');
  const built = /using NODE_MODULE_VERSION (\d+)/.exec(message);
  const detail = built ? `it was built for ABI ${built[1]}` : message.slice(0, 300);
  const dir = projectDir();
  return (
    `better-sqlite3's native module does not load in Node ${process.version} (ABI ${process.versions.modules}): ${detail}\n` +
    `  it must be built for the Node that runs warden: run \`npm rebuild better-sqlite3\`${dir ? ` in ${dir}` : ''} with this Node, then try again`
  );
}
