/**
 * Bounds on JSON that arrives from outside. V8's JSON.parse does not recurse, but JSON.stringify,
 * zod and every other walker do: a message nested 5,000 levels deep (30 KB) overflowed the stack
 * and ended `serve`. So depth is measured here, iteratively (no recursion the input controls), and
 * a message over the bound is refused before anything else touches it. Pure.
 */

/** Far deeper than anything MCP carries (a handful of levels), far below what overflows a walker (thousands). */
export const MAX_JSON_DEPTH = 256;

/**
 * The longest line `warden serve` reads: 64 MiB, so an apply_patch of up to 32 MiB fits even when
 * JSON escaping doubles it. A longer line is skipped (read and dropped, never buffered whole) and
 * answered with a JSON-RPC error; the session goes on.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Whether `value` nests objects/arrays deeper than `limit` (a scalar has depth 0). Iterative; stops at the first excess. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push([c, depth + 1]);
  }
  return false;
}
