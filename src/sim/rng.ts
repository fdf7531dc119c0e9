// Seeded randomness and latency distributions: a run with the same seed waits the same way.
import { z } from 'zod';

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for latency jitter and demo mixes (not for secrets). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const latencySpecSchema = z.union([
  z.number().nonnegative(),
  z.object({ kind: z.literal('fixed'), ms: z.number().nonnegative() }),
  z
    .object({ kind: z.literal('uniform'), minMs: z.number().nonnegative(), maxMs: z.number().nonnegative() })
    .refine((s) => s.maxMs >= s.minMs, 'uniform latency needs maxMs >= minMs'),
  z.object({ kind: z.literal('normal'), meanMs: z.number().nonnegative(), sdMs: z.number().nonnegative() }),
  /** Long-tailed, like real networks: median plus sigma of the underlying normal. */
  z.object({ kind: z.literal('lognormal'), medianMs: z.number().positive(), sigma: z.number().nonnegative() }),
]);
export type LatencySpec = z.infer<typeof latencySpecSchema>;

function standardNormal(rng: Rng): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** One latency sample in ms, never negative. */
export function sampleLatency(spec: LatencySpec | undefined, rng: Rng): number {
  if (spec == null) return 0;
  if (typeof spec === 'number') return spec;
  switch (spec.kind) {
    case 'fixed':
      return spec.ms;
    case 'uniform':
      return spec.minMs + (spec.maxMs - spec.minMs) * rng();
    case 'normal':
      return Math.max(0, spec.meanMs + spec.sdMs * standardNormal(rng));
    case 'lognormal':
      return spec.medianMs * Math.exp(spec.sigma * standardNormal(rng));
  }
}

/**
 * Parses the CLI form: `300` (fixed), `100-500` (uniform), `normal:300,50`, `lognormal:300,0.5`.
 * Throws an Error whose message says what form is expected.
 */
export function parseLatencyFlag(text: string): LatencySpec {
  const t = text.trim();
  const num = (s: string) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`bad latency number "${s}" in "${text}"`);
    return n;
  };
  let m = /^([\d.]+)$/.exec(t);
  if (m) return num(m[1]);
  m = /^([\d.]+)-([\d.]+)$/.exec(t);
  if (m) {
    const spec = { kind: 'uniform' as const, minMs: num(m[1]), maxMs: num(m[2]) };
    if (spec.maxMs < spec.minMs) throw new Error(`latency range "${text}" must be min-max with min <= max`);
    return spec;
  }
  m = /^(normal|lognormal):([^,]+),([^,]+)$/.exec(t);
  if (m?.[1] === 'normal') return { kind: 'normal', meanMs: num(m[2]), sdMs: num(m[3]) };
  if (m?.[1] === 'lognormal') {
    const medianMs = num(m[2]);
    if (medianMs <= 0) throw new Error(`lognormal median must be > 0 in "${text}"`);
    return { kind: 'lognormal', medianMs, sigma: num(m[3]) };
  }
  throw new Error(
    `cannot read latency "${text}": use MS (300), MIN-MAX (100-500), normal:MEAN,SD or lognormal:MEDIAN,SIGMA`,
  );
}
