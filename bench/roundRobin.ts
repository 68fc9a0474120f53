/**
 * Latency measurement shared by the benches: variants are run round-robin, so load from other
 * processes hits each of them alike, and reported as p50/p95 in milliseconds.
 */
export type Variant = { name: string; once: () => Promise<unknown> };
export type Percentiles = { name: string; p50: number; p95: number };

export async function measureRoundRobin(variants: Variant[], rounds: number, warmup: number): Promise<Percentiles[]> {
  for (let i = 0; i < warmup; i++) for (const v of variants) await v.once();
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (const [j, v] of variants.entries()) {
      const t0 = performance.now();
      await v.once();
      times[j]!.push(performance.now() - t0);
    }
  }
  return variants.map((v, j) => {
    const t = times[j]!.sort((a, b) => a - b);
    const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]!;
    return { name: v.name, p50: q(0.5), p95: q(0.95) };
  });
}
