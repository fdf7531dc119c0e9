// Sweeps many accounts: a concurrency limit (p-limit) plus a start gate that spaces probe starts by
// a small random gap, so bursts stay under Cloudflare's per-IP threshold without costing throughput.
import pLimit from 'p-limit';
import { type Clock, systemClock } from '../domain/time.ts';
import { type ProbeOptions, type ProbeOutcome, type ProbeTarget, probeAccount } from './probe.ts';
import { realSleep, type Sleep } from './retry.ts';

export const DEFAULT_CONCURRENCY = 5;
export const MAX_CONCURRENCY = 20;
/** Upper bound of the random gap between two probe starts. Small next to a probe's latency. */
export const DEFAULT_START_JITTER_MS = 20;

export interface SweepTarget extends ProbeTarget {
  /** Shown in progress; never a secret. */
  name?: string;
}

export interface SweepProgress {
  done: number;
  total: number;
  /** Name of the target that just finished. */
  current: string | null;
}

export interface ProbeAllOptions extends ProbeOptions {
  /** Requested concurrency (the resolved config's, or the dashboard setting); else 5; clamped to 1..20. */
  concurrency?: number;
  startJitterMs?: number;
  /** The probe to run per target (default probeAccount; the live report passes probeViaResponses). */
  probe?: (target: SweepTarget, options: ProbeOptions) => Promise<ProbeOutcome>;
  /** Per-target options (e.g. each account's own refresh hook). */
  optionsFor?: (target: SweepTarget, index: number) => Partial<ProbeOptions>;
  /**
   * Once aborted, no further probe starts; the sweep still waits for the ones in flight (so nothing
   * runs on after it returns), then rejects with the signal's reason if any target was skipped.
   */
  signal?: AbortSignal;
}

/** Requested value, else 5; clamped to 1..20. (CODEX_FLEET_CONCURRENCY is read once, in core/config.ts.) */
export function resolveConcurrency(requested?: number | null): number {
  const raw = requested != null && Number.isFinite(requested) ? requested : DEFAULT_CONCURRENCY;
  return Math.min(MAX_CONCURRENCY, Math.max(1, Math.floor(raw)));
}

/**
 * A gate that lets one start through at a time, each at least a random gap after the previous one.
 * When probes are slower than the gaps (the usual case) nobody waits.
 */
export function createStartGate(maxGapMs: number, random: () => number, clock: Clock, sleep: Sleep) {
  let nextAllowedAt = Number.NEGATIVE_INFINITY;
  return async function waitForTurn(): Promise<void> {
    const now = clock();
    const startAt = Math.max(now, nextAllowedAt);
    nextAllowedAt = startAt + Math.max(0, maxGapMs) * Math.min(1, Math.max(0, random()));
    if (startAt > now) await sleep(startAt - now);
  };
}

/** Probes every target; results come back in input order. onProgress runs after each one. */
export async function probeAll(
  targets: readonly SweepTarget[],
  options: ProbeAllOptions,
  onProgress?: (progress: SweepProgress) => void,
): Promise<ProbeOutcome[]> {
  const limit = pLimit(resolveConcurrency(options.concurrency));
  const random = options.random ?? Math.random;
  const gate = createStartGate(
    options.startJitterMs ?? DEFAULT_START_JITTER_MS,
    random,
    options.clock ?? systemClock,
    options.sleep ?? realSleep,
  );
  const probe = options.probe ?? probeAccount;
  const total = targets.length;
  let done = 0;
  const signal = options.signal;
  const settled = await Promise.allSettled(
    targets.map((target, index) =>
      limit(async () => {
        signal?.throwIfAborted();
        await gate();
        signal?.throwIfAborted();
        const outcome = await probe(target, { ...options, ...options.optionsFor?.(target, index) });
        done++;
        try {
          onProgress?.({ done, total, current: target.name ?? null });
        } catch {
          // A broken progress renderer must not lose the sweep's results.
        }
        return outcome;
      }),
    ),
  );
  return settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
}
