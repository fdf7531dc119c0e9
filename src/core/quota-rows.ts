// The `quota --json` contract (issue 3): one row per account, missing facts null, never 0.
import type { Account } from '../domain/account.ts';
import type { AccountState, Credits, ProbeReason, ProbeResult, QuotaWindow, SnapshotSource } from '../domain/quota.ts';

/** A window as the JSON contract shows it: the normalized window, its countdown taken at `now`. */
export type QuotaRowWindow = QuotaWindow;

export interface QuotaRow {
  /** The seat's account id (workspace + user): unique per row, unlike accountId. */
  id: string;
  name: string;
  /** The workspace (chatgpt_account_id): shared by every seat of a Team workspace. */
  accountId: string | null;
  email: string | null;
  plan: string | null;
  source: SnapshotSource;
  state: AccountState;
  reason: ProbeReason;
  message: string | null;
  errorCode: string | null;
  httpStatus: number | null;
  fetchedAt: string;
  stale: boolean;
  /** A rate-limited account (429 with a reset): when it can serve again; null when not limited or unknown. */
  limitResetsAt: string | null;
  windows: QuotaRowWindow[];
  credits: Credits;
}

const UNKNOWN_CREDITS: Credits = { hasCredits: null, unlimited: null, balance: null };

/** Reset countdowns are recomputed against `now`, so a cached row never shows a stale countdown. */
export function toQuotaRow(account: Account, result: ProbeResult, now: number, stale = false): QuotaRow {
  const snapshot = result.snapshot;
  return {
    id: account.id,
    name: account.name,
    accountId: account.accountId,
    email: account.email,
    plan: snapshot?.plan ?? account.plan,
    source: result.source,
    state: result.state,
    reason: result.reason,
    message: result.message,
    errorCode: result.errorCode,
    httpStatus: result.httpStatus,
    fetchedAt: result.fetchedAt,
    stale,
    limitResetsAt:
      result.state === 'exhausted' && result.resetAfterSeconds != null
        ? new Date(Date.parse(result.fetchedAt) + result.resetAfterSeconds * 1000).toISOString()
        : null,
    windows: (snapshot?.windows ?? []).map((w) => ({
      kind: w.kind,
      scope: w.scope,
      limitName: w.limitName,
      usedPercent: w.usedPercent,
      remainingPercent: w.remainingPercent,
      windowSeconds: w.windowSeconds,
      resetAfterSeconds: w.resetsAt == null ? w.resetAfterSeconds : secondsUntil(w.resetsAt, now),
      resetsAt: w.resetsAt,
    })),
    credits: snapshot?.credits ?? UNKNOWN_CREDITS,
  };
}

/**
 * The row to show for a probe: a transient failure keeps the last good windows visible, marked
 * stale, while saying what just happened (state, reason, status). Used by `quota`, the state file
 * and the server alike.
 */
export function rowKeepingLastGood(
  account: Account,
  latest: ProbeResult,
  lastGood: ProbeResult | null,
  now: number,
): QuotaRow {
  if (!latest.transient || !lastGood) return toQuotaRow(account, latest, now);
  const failure = {
    state: latest.state,
    reason: latest.reason,
    httpStatus: latest.httpStatus,
    errorCode: latest.errorCode,
    message: latest.message,
    source: latest.source,
  };
  return toQuotaRow(account, { ...lastGood, ...failure }, now, true);
}

function secondsUntil(iso: string, now: number): number {
  return Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
}

/** The main window of a kind: the rate_limit's own window, not a code-review or additional one. */
export function mainWindow(row: Pick<QuotaRow, 'windows'>, kind: QuotaWindow['kind']): QuotaRowWindow | null {
  const own = row.windows.filter((w) => w.kind === kind && (w.scope === 'primary' || w.scope === 'secondary'));
  return own[0] ?? null;
}
