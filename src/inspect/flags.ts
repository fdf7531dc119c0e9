// Flag bookkeeping for hard auth failures: a dead refresh token flags an account, each later
// verification counts, and any success un-flags it (a wrongly flagged account clears itself).
import type { ProbeResult } from '../domain/quota.ts';
import type { FlagState } from '../domain/report.ts';

const HARD_AUTH_CODES = /^(invalid_grant|refresh_token_[a-z_]+)$/;

/** True for a permanent auth failure: the refresh token is dead and only a new login helps. */
export function isHardAuthFailure(probe: ProbeResult | null | undefined): boolean {
  if (!probe || probe.transient) return false;
  if (probe.reason === 'refresh_token_dead') return true;
  return probe.errorCode != null && HARD_AUTH_CODES.test(probe.errorCode);
}

/** A probe that proves the credentials work (quota answered, even if exhausted). */
export function isAuthSuccess(probe: ProbeResult | null | undefined): boolean {
  return probe != null && !probe.transient && (probe.state === 'ok' || probe.state === 'exhausted');
}

/**
 * The flag after one more probe. Transient or unknown results leave it as it was; a success clears
 * it; a hard auth failure creates it (verificationCount 0) or counts one more verification.
 */
export function nextFlagState(prev: FlagState | null, probe: ProbeResult | null, now: number): FlagState | null {
  if (!probe || probe.transient || probe.state === 'unknown') return prev;
  if (isAuthSuccess(probe)) return null;
  if (prev) {
    // Still failing (hard or otherwise): the flag stays, and this probe verified it once more.
    return { ...prev, lastVerified: now, verificationCount: prev.verificationCount + 1 };
  }
  if (!isHardAuthFailure(probe)) return null;
  return {
    flaggedAt: now,
    flaggedReason: probe.errorCode ?? probe.reason,
    lastVerified: null,
    verificationCount: 0,
  };
}
