// Retry policy for transient upstream failures: exponential backoff with full jitter (AWS style),
// honouring Retry-After. Sleep and randomness are injected so tests never wait.
import type { ProbeReason } from '../domain/quota.ts';

/** Reasons worth retrying: they say nothing about the account and often pass on their own. */
export const RETRYABLE_REASONS: readonly ProbeReason[] = [
  'cloudflare_challenge',
  'throttled',
  'server_error',
  'server_overloaded',
  'timeout',
  'network_error',
];

export interface BackoffPolicy {
  /** First delay before jitter; doubles per attempt. */
  baseDelayMs: number;
  /** Ceiling for one backoff delay. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the probe gives up and reports it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 2000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Retry-After as seconds: delta-seconds or an HTTP date (relative to nowMs). Null when absent/garbage. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (/^-\d/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

export function isRetryableReason(reason: ProbeReason): boolean {
  return RETRYABLE_REASONS.includes(reason);
}

/** Full jitter: uniform in [0, min(max, base × 2^attempt)]. attempt counts from 0. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * r);
}

/**
 * Delay before the next attempt, or null when it should not be retried (Retry-After beyond the cap).
 * Retry-After is a floor: we never come back earlier than the server asked.
 */
export function nextRetryDelayMs(
  attempt: number,
  retryAfterSeconds: number | null,
  policy: BackoffPolicy,
  random: () => number,
): number | null {
  const jittered = backoffDelayMs(attempt, policy, random);
  if (retryAfterSeconds == null) return jittered;
  const asked = retryAfterSeconds * 1000;
  if (asked > policy.maxRetryAfterMs) return null;
  return Math.max(asked, jittered);
}
