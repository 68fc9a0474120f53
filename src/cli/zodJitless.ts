/**
 * Turns zod's JIT off for the CLI process; imported first by main.ts, since zod reads the setting
 * when each object schema is built (src/events/types.ts builds its schemas at import).
 *
 * The JIT writes and compiles (new Function) a fast path for an object schema on its first parse,
 * which pays off after many parses of that schema. A warden process parses a handful per request
 * (the events it appends, a tool call's arguments, the MCP SDK's messages), so the JIT only cost
 * start-up: ~10 ms of CPU for exec's four appends on the 2-core machine. Interpreted parsing checks
 * exactly the same things. Tests and benches that import src/ directly keep zod's default.
 */
import * as z from 'zod';

z.config({ jitless: true });
