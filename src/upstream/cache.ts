// When a probe may be answered from the last stored result instead of the network (the store keeps
// the results; this only decides). Exhausted accounts are not probed again
// before their reset: the answer cannot change, and every probe counts against Cloudflare's limit.
import type { ProbeResult } from '../domain/quota.ts';

export const DEFAULT_CACHE_TTL_MS = 60_000;

export type CacheDecision =
  | { useCache: true; reason: 'exhausted_until_reset' | 'fresh'; validUntil: number }
  | { useCache: false; reason: 'no_entry' | 'transient_failure' | 'expired' | 'reset_passed' | 'bad_timestamp' };

export function cacheDecision(last: ProbeResult | null, now: number, ttlMs = DEFAULT_CACHE_TTL_MS): CacheDecision {
  if (!last) return { useCache: false, reason: 'no_entry' };
  // A failure that says nothing about the account is no answer: ask again.
  if (last.transient) return { useCache: false, reason: 'transient_failure' };
  const fetchedAt = Date.parse(last.fetchedAt);
  if (!Number.isFinite(fetchedAt) || fetchedAt > now + 60_000) return { useCache: false, reason: 'bad_timestamp' };
  if (last.state === 'exhausted' && last.resetAfterSeconds != null) {
    const resetAt = fetchedAt + last.resetAfterSeconds * 1000;
    if (now < resetAt) return { useCache: true, reason: 'exhausted_until_reset', validUntil: resetAt };
    return { useCache: false, reason: 'reset_passed' };
  }
  const validUntil = fetchedAt + Math.max(0, ttlMs);
  if (now < validUntil) return { useCache: true, reason: 'fresh', validUntil };
  return { useCache: false, reason: 'expired' };
}

/** A cached result as shown now: source `cache`, countdowns shortened by the time since it was fetched. */
export function asCachedResult(result: ProbeResult, now: number): ProbeResult {
  const elapsed = Math.max(0, (now - Date.parse(result.fetchedAt)) / 1000);
  const shorten = (s: number | null) =>
    s == null || !Number.isFinite(elapsed) ? s : Math.max(0, Math.round(s - elapsed));
  const snapshot = result.snapshot && {
    ...result.snapshot,
    windows: result.snapshot.windows.map((w) => ({ ...w, resetAfterSeconds: shorten(w.resetAfterSeconds) })),
  };
  return {
    ...result,
    source: 'cache',
    snapshot,
    resetAfterSeconds: shorten(result.resetAfterSeconds),
  };
}
