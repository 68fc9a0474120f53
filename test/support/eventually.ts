/**
 * The one way a test waits: poll a condition until it holds, or fail naming what was awaited.
 * Tests wait for conditions, never for a fixed time; a probe returns `undefined` (or null/false)
 * while the condition does not hold yet and the value to continue with once it does.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
