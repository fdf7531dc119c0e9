// Status and health score of one account: a pure function of the account, its latest probe, the
// last known good probe, token facts and flags. The same rules are written as a table in
// docs/status-rules.md; keep both in step.

import type { Account } from '../domain/account.ts';
import type { PlanTerm } from '../domain/plan.ts';
import type { ProbeResult } from '../domain/quota.ts';
import { bindingSpendWindow, exhaustedText, windowlessText } from '../domain/quota-reason.ts';
import type { AccountStatus, FlagState, TokenState } from '../domain/report.ts';
import { formatDuration } from '../domain/time.ts';
import { NO_REFRESH_TOKEN } from '../upstream/classify.ts';
import { mainWindows, remainingOf, resetAtMs } from './windows.ts';

export interface StatusSettings {
  /** Warn when the tightest window has less than this remaining %. */
  lowQuotaPercent: number;
  /** Warn when the last successful refresh is older than this (the Codex CLI refreshes every 8 days). */
  refreshMaxAgeMs: number;
  /** Warn when the access token expires within this and there is no refresh token to renew it. */
  expiringSoonMs: number;
}

export const DEFAULT_STATUS_SETTINGS: StatusSettings = {
  lowQuotaPercent: 20,
  refreshMaxAgeMs: 8 * 24 * 3600_000,
  expiringSoonMs: 24 * 3600_000,
};

export interface AccountEvidence {
  account: Account;
  /** The latest probe, whatever its outcome. */
  probe: ProbeResult | null;
  /** The latest informative probe (not transient, not unknown); used when `probe` says nothing. */
  lastGood?: ProbeResult | null;
  token?: TokenState | null;
  flag?: FlagState | null;
  /** The paid plan's term, from the subscriptions endpoint, when it was read. */
  plan?: PlanTerm | null;
}

export interface StatusResult {
  status: AccountStatus;
  healthScore: number;
  reasons: string[];
  rateLimited: boolean;
  /** When a rate-limited account gets capacity back (ms), when known. */
  resetsAt: number | null;
  /** The probe the status was derived from. */
  basis: ProbeResult | null;
  /** True when `basis` is older data because the latest probe said nothing about the account. */
  stale: boolean;
  /** Lowest remaining % over the main windows, when known. */
  tightestRemaining: number | null;
  /**
   * True when upstream said no rate-limit windows apply (credits, spend controls): usable capacity
   * with no window numbers, which is not "0% left" and not "unknown".
   */
  windowless: boolean;
}

/** Whether a probe says the account has no rate-limit windows (stored as its reason, so it survives the store). */
export function isWindowless(probe: ProbeResult | null | undefined): boolean {
  return probe?.reason === 'no_rate_limit_windows' && probe.state === 'ok';
}

/** A probe says something about the account unless it is transient or unknown. */
export function isInformative(probe: ProbeResult | null | undefined): probe is ProbeResult {
  return probe != null && !probe.transient && probe.state !== 'unknown';
}

/**
 * Whether the account's access token can be renewed without a person: a refresh token in the file,
 * or in CPA's copy (CPA refreshes its own; when its file was not read, CPA is trusted to have one).
 */
export function canRenewToken(account: Account): boolean {
  const c = account.credentials;
  if (c.refreshToken) return true;
  if (c.remoteRefreshToken != null) return c.remoteRefreshToken;
  return account.sourceKind === 'cpa';
}

/** Token facts from an account's stored credentials. */
export function tokenStateOf(account: Account, refreshFailures = 0): TokenState {
  const lr = account.credentials.lastRefresh ? Date.parse(account.credentials.lastRefresh) : Number.NaN;
  return {
    expiresAt: account.credentials.expiresAt,
    lastRefreshAt: Number.isFinite(lr) ? lr : null,
    refreshFailures,
    hasRefreshToken: canRenewToken(account),
  };
}

/**
 * The one rule for "only a new sign-in helps" (Reauth in inspection, error in the status): the auth
 * is invalid, or the access token expired and nothing can renew it. status, inspection and every
 * face read it from here.
 */
export function needsSignIn(probe: Pick<ProbeResult, 'state' | 'errorCode'> | null, token: TokenState): boolean {
  if (probe?.state === 'auth_invalid') return true;
  return probe?.state === 'auth_expired' && (!token.hasRefreshToken || probe.errorCode === NO_REFRESH_TOKEN);
}

/** Picks the probe to decide from: the latest if it is informative, else the last good one (stale). */
export function basisProbe(ev: Pick<AccountEvidence, 'probe' | 'lastGood'>): {
  basis: ProbeResult | null;
  stale: boolean;
} {
  if (isInformative(ev.probe)) return { basis: ev.probe, stale: false };
  if (isInformative(ev.lastGood)) return { basis: ev.lastGood, stale: true };
  return { basis: null, stale: ev.probe != null };
}

export function deriveStatus(
  ev: AccountEvidence,
  now: number,
  settings: StatusSettings = DEFAULT_STATUS_SETTINGS,
): StatusResult {
  const { basis, stale } = basisProbe(ev);
  const token = ev.token ?? tokenStateOf(ev.account);
  const windows = mainWindows(basis?.snapshot);
  const remainings = windows.map(remainingOf).filter((r): r is number => r != null);
  const tightestRemaining = remainings.length ? Math.min(...remainings) : null;
  const windowless = isWindowless(basis);
  const base = { basis, stale, tightestRemaining, windowless };
  const result = (status: AccountStatus, healthScore: number, reasons: string[], resetsAt: number | null = null) => ({
    ...base,
    status,
    healthScore,
    reasons,
    rateLimited: status === 'rate-limited',
    resetsAt,
  });

  if (ev.account.disabled) return result('disabled', 0, ['disabled']);
  if (ev.flag) return result('error', 0, [`hard auth failure: ${ev.flag.flaggedReason}; sign in again`]);

  const state = basis?.state ?? null;
  const code = basis?.errorCode ? ` (${basis.errorCode})` : '';
  switch (state) {
    case 'auth_invalid':
      return result('error', 0, [`auth invalid${code}; sign in again`]);
    case 'workspace_deactivated':
      return result('error', 0, [`workspace deactivated${code}`]);
    case 'blocked':
      // Banned or closed (e.g. a 401 account_deactivated): disable it; a new sign-in cannot help.
      return result('error', 0, [`account blocked${code}; a new sign-in cannot help`]);
    case 'no_codex':
      return result('error', 0, [`plan does not include Codex${code}`]);
    case 'auth_expired':
      if (needsSignIn(basis, token)) {
        return result('error', 0, ['access token expired and there is no refresh token; sign in again']);
      }
      break;
  }

  const limitHit = state === 'exhausted' || basis?.snapshot?.limitReached === true || remainings.some((r) => r <= 0);
  if (basis && limitHit) {
    const resetsAt = exhaustedResetAt(basis);
    // What ran out: the quota, a workspace spend budget, or the workspace's credits (domain/quota-reason.ts).
    const what = exhaustedText(basis.reason, basis.errorCode, basis.snapshot);
    if (resetsAt == null) return result('rate-limited', 10, [`${what}; reset time unknown`]);
    if (resetsAt > now) {
      return result('rate-limited', 10, [`${what}; resets in ${formatDuration((resetsAt - now) / 1000)}`], resetsAt);
    }
    // The reset has passed since the last check: probably usable again, but not verified.
    return result('warning', 50, ['quota reset has passed since the last check; not re-checked yet'], resetsAt);
  }

  const reasons: string[] = [];
  let penalty = 0;
  if (basis == null) {
    reasons.push(ev.probe ? 'no successful check yet (last probe failed)' : 'never checked');
    penalty += 15;
  } else if (state === 'auth_expired') {
    reasons.push('access token expired; a refresh is needed');
    penalty += 10;
  }
  if (tightestRemaining != null && tightestRemaining < settings.lowQuotaPercent) {
    reasons.push(`low quota: ${Math.round(tightestRemaining)}% left`);
  }
  // Without windows a spend budget, when there is one, is what can run low.
  const spendLeft = windowless ? remainingOf(bindingSpendWindow(basis?.snapshot)) : null;
  if (spendLeft != null && spendLeft < settings.lowQuotaPercent) {
    reasons.push(`low spend budget: ${Math.round(spendLeft)}% left`);
  }
  if (token.refreshFailures > 0) {
    reasons.push(`${token.refreshFailures} failed refresh attempt(s)`);
    penalty += Math.min(30, 10 * token.refreshFailures);
  }
  if (token.hasRefreshToken && token.lastRefreshAt != null && now - token.lastRefreshAt > settings.refreshMaxAgeMs) {
    reasons.push(`refresh is aging: last refreshed ${formatDuration((now - token.lastRefreshAt) / 1000)} ago`);
    penalty += 15;
  }
  if (!token.hasRefreshToken && token.expiresAt != null && token.expiresAt - now < settings.expiringSoonMs) {
    reasons.push(
      token.expiresAt <= now
        ? 'access token expired and cannot be refreshed'
        : `access token expires in ${formatDuration((token.expiresAt - now) / 1000)} and cannot be refreshed`,
    );
    penalty += 20;
  }
  // Quota drives the score: 30 points for a working account plus up to 70 for remaining quota;
  // unknown quota counts as half, no windows as full (or the spend budget left).
  const quotaPart = 0.7 * (tightestRemaining ?? (windowless ? (spendLeft ?? 100) : 50));
  const score = Math.round(Math.min(100, Math.max(1, 30 + quotaPart - penalty)));
  if (windowless) reasons.unshift(windowlessText(basis?.snapshot));
  if (reasons.length > (windowless ? 1 : 0)) return result('warning', score, reasons);
  if (windowless) return result('healthy', score, reasons);
  return result('healthy', score, [
    tightestRemaining != null ? `${Math.round(tightestRemaining)}% left in the tightest window` : 'quota available',
  ]);
}

/** Reset of an exhausted account: the probe's own reset, else the latest reset among empty windows. */
function exhaustedResetAt(probe: ProbeResult): number | null {
  const fetched = Date.parse(probe.fetchedAt);
  if (probe.resetAfterSeconds != null && Number.isFinite(fetched)) return fetched + probe.resetAfterSeconds * 1000;
  let latest: number | null = null;
  for (const w of mainWindows(probe.snapshot)) {
    const r = remainingOf(w);
    if (r == null || r > 0) continue;
    const t = resetAtMs(w, probe.snapshot?.fetchedAt ?? probe.fetchedAt);
    if (t != null && (latest == null || t > latest)) latest = t;
  }
  return latest;
}
