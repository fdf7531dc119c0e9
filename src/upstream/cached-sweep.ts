// A sweep that answers from the cache where cacheDecision allows and probes the rest: the glue the
// `quota` command and the live report share, so the cache rules live in one place.
import type { ProbeResult } from '../domain/quota.ts';
import { systemClock } from '../domain/time.ts';
import { asCachedResult, cacheDecision, DEFAULT_CACHE_TTL_MS, type QuotaCache } from './cache.ts';
import type { ProbeOutcome } from './probe.ts';
import { type ProbeAllOptions, probeAll, type SweepProgress, type SweepTarget } from './probe-runner.ts';
import { sanitizeMessage } from './sanitize.ts';

export interface CachedSweepTarget extends SweepTarget {
  /** Cache key: the account's stable id. */
  key: string;
}

export interface CachedSweepOptions extends ProbeAllOptions {
  /** --refresh: ignore the cache and probe every account. */
  forceNetwork?: boolean;
  ttlMs?: number;
}

export interface SweepEntry {
  outcome: ProbeOutcome;
  /** When the network answer was transient: the last known answer, to show marked as stale. */
  lastKnown: ProbeResult | null;
}

export interface CachedSweepResult {
  entries: SweepEntry[];
  fromCache: number;
  fromNetwork: number;
  /** The cache could not be written; the results are still good. */
  saveError: string | null;
}

/** Results in input order. Progress counts only the accounts that go to the network. */
export async function sweepWithCache(
  targets: readonly CachedSweepTarget[],
  cache: QuotaCache,
  options: CachedSweepOptions,
  onProgress?: (progress: SweepProgress) => void,
): Promise<CachedSweepResult> {
  const clock = options.clock ?? systemClock;
  const now = clock();
  const entries: (SweepEntry | null)[] = targets.map((t) => {
    if (options.forceNetwork) return null;
    const last = cache.get(t.key);
    const decision = cacheDecision(last, now, options.ttlMs ?? DEFAULT_CACHE_TTL_MS);
    return decision.useCache && last ? { outcome: asCachedResult(last, now), lastKnown: null } : null;
  });
  const pending = targets.filter((_, i) => entries[i] == null);
  const outcomes = await probeAll(
    pending,
    { ...options, pathMemory: options.pathMemory ?? cache.usagePaths },
    onProgress,
  );
  let next = 0;
  for (let i = 0; i < targets.length; i++) {
    if (entries[i]) continue;
    const outcome = outcomes[next++];
    const previous = cache.get(targets[i].key);
    const lastKnown = outcome.transient && previous && !previous.transient ? asCachedResult(previous, clock()) : null;
    cache.set(targets[i].key, outcome);
    entries[i] = { outcome, lastKnown };
  }
  let saveError: string | null = null;
  try {
    await cache.save();
  } catch (error) {
    saveError = sanitizeMessage(error instanceof Error ? error.message : String(error));
  }
  return {
    entries: entries as SweepEntry[],
    fromCache: targets.length - pending.length,
    fromNetwork: pending.length,
    saveError,
  };
}
