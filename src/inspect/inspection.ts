// Inspection: one account plus its upstream evidence → state, suggested action, one-line reason,
// the evidence it was decided from, and what was missing. Pure; the policy (actions/policy.ts)
// decides separately whether a suggestion is queued or executed.

import type { Account } from '../domain/account.ts';
import {
  type InspectionEvidence,
  type InspectionRequestEvidence,
  type InspectionResult,
  type InspectionThresholds,
  type SuggestedAction,
  THRESHOLD_WINDOWS,
  type ThresholdWindow,
} from '../domain/inspection.ts';
import type { AccountState, ProbeResult } from '../domain/quota.ts';
import { windowlessText } from '../domain/quota-reason.ts';
import type { TokenState } from '../domain/report.ts';
import { formatDuration } from '../domain/time.ts';
import { sanitizeMessage as sanitizeUpstreamMessage } from '../upstream/sanitize.ts';
import { needsSignIn, tokenStateOf } from './status.ts';
import { mainWindow, mainWindows, resetAtMs, usedOf } from './windows.ts';

/** Default: disable at 100% used in the weekly or monthly window; the 5h window resets soon enough. */
export interface InspectionInput {
  /** The latest probe of this run; null when the account could not be probed at all. */
  probe: ProbeResult | null;
  token?: TokenState | null;
  /** Issue 20: request outcomes through CPA, carried as evidence beside the probe (never decides). */
  requests?: InspectionRequestEvidence | null;
}

const FIVE_HOURS_S = 5 * 3600;

export function inspectAccount(
  account: Account,
  input: InspectionInput,
  thresholds: InspectionThresholds,
  now: number,
): InspectionResult {
  const { probe } = input;
  const evidence = evidenceOf(account, input);
  const missing = missingOf(evidence, probe);
  const result = (state: AccountState, action: SuggestedAction, reason: string): InspectionResult => ({
    accountId: account.id,
    accountName: account.name,
    disabled: account.disabled,
    state,
    action,
    reason,
    evidence,
    missing,
    inspectedAt: now,
  });
  const code = probe?.errorCode ? ` ${probe.errorCode}` : '';
  const status = probe?.httpStatus != null ? ` ${probe.httpStatus}` : '';
  const keepOrDisable = (state: AccountState, why: string) =>
    account.disabled ? result(state, 'Keep', `already disabled; ${why}`) : result(state, 'Disable', why);

  if (!probe) return result('unknown', 'Keep', 'unknown, never probed');
  // Cloudflare, timeouts, 5xx, throttling: says nothing about the account, so nothing changes.
  if (probe.transient || probe.state === 'unknown') {
    return result('unknown', 'Keep', `unknown, probe failed (${probe.reason}${status})`);
  }
  switch (probe.state) {
    case 'auth_invalid':
      // A 403 is never proof of invalid auth by itself (UPSTREAM.md §2).
      if (probe.httpStatus === 403)
        return result('unknown', 'Keep', 'unknown, probe failed (403 is not an auth verdict)');
      return probe.reason === 'refresh_token_dead'
        ? result(
            'auth_invalid',
            'Reauth',
            `refresh token is dead (${probe.errorCode ?? 'refresh failed'}); sign in again`,
          )
        : result('auth_invalid', 'Reauth', `auth invalid (${probe.httpStatus ?? 'no status'}${code}); sign in again`);
    case 'auth_expired':
      // The same rule as the status (inspect/status.ts): no way to renew the token means a new sign-in.
      return needsSignIn(probe, input.token ?? tokenStateOf(account))
        ? result('auth_expired', 'Reauth', 'access token expired and there is no refresh token; sign in again')
        : result(
            'auth_expired',
            'Keep',
            `access token expired${code ? ` (${probe.errorCode})` : ''}; it is refreshed before the next probe`,
          );
    case 'workspace_deactivated':
      return result('workspace_deactivated', 'Delete', `workspace deactivated (${probe.httpStatus ?? '?'}${code})`);
    case 'blocked':
      return keepOrDisable('blocked', `account blocked (${probe.httpStatus ?? '?'}${code})`);
    case 'no_codex':
      return keepOrDisable('no_codex', `plan does not include Codex (${probe.errorCode ?? 'usage_not_included'})`);
  }

  // ok or exhausted: thresholds per window decide.
  const breaches = thresholdBreaches(probe, thresholds, now);
  if (breaches.length) return keepOrDisable(probe.state, breaches.join('; '));
  const known = mainWindows(probe.snapshot).filter((w) => usedOf(w) != null);
  const summary = known.map((w) => `${w.kind} ${Math.round(usedOf(w) as number)}% used`).join(', ');
  if (probe.state === 'exhausted' || probe.snapshot?.limitReached === true) {
    const reset = exhaustedReset(probe);
    const when = reset != null ? `resets in ${formatDuration((reset - now) / 1000)}` : 'reset unknown';
    const full = mainWindows(probe.snapshot).find((w) => (usedOf(w) ?? 0) >= 100);
    const what = full ? `${full.kind} window exhausted` : 'usage limit reached';
    return result('exhausted', 'Keep', `${what}, ${when}; below the disable thresholds`);
  }
  // No rate-limit windows apply (credits, spend controls): usable, in the words every face uses.
  const windowless = probe.reason === 'no_rate_limit_windows' ? windowlessText(probe.snapshot) : null;
  if (account.disabled) {
    if (windowless) return result('ok', 'Enable', `usable again (${windowless})`);
    if (!known.length) return result('ok', 'Keep', 'disabled; the probe succeeded but reported no quota windows');
    return result('ok', 'Enable', `quota available again (${summary})`);
  }
  if (windowless) return result('ok', 'Keep', windowless);
  return result(
    'ok',
    'Keep',
    known.length ? `quota available (${summary})` : 'probe succeeded; no quota windows reported',
  );
}

/** Windows at or over their disable threshold, as "weekly 100% used, resets in 2d 4h". */
function thresholdBreaches(probe: ProbeResult, thresholds: InspectionThresholds, now: number): string[] {
  const out: string[] = [];
  const fetchedAt = probe.snapshot?.fetchedAt ?? probe.fetchedAt;
  for (const kind of THRESHOLD_WINDOWS) {
    const t = thresholds[kind];
    const w = mainWindow(probe.snapshot, kind);
    const used = usedOf(w);
    if (!t.enabled || used == null || used < t.disableAtUsedPercent) continue;
    const reset = resetAtMs(w, fetchedAt);
    out.push(
      `${kind} window ${Math.round(used)}% used, ${reset != null ? `resets in ${formatDuration((reset - now) / 1000)}` : 'reset unknown'}`,
    );
  }
  // A 429 usage_limit_reached without windows: a reset within 5 hours can only be the 5h window;
  // a later or unknown reset is a weekly/monthly limit (free plans omit it).
  if (!out.length && probe.state === 'exhausted' && mainWindows(probe.snapshot).every((w) => usedOf(w) == null)) {
    const kind: ThresholdWindow =
      probe.resetAfterSeconds != null && probe.resetAfterSeconds <= FIVE_HOURS_S ? '5h' : 'weekly';
    if (thresholds[kind].enabled) {
      const when =
        probe.resetAfterSeconds != null ? `resets in ${formatDuration(probe.resetAfterSeconds)}` : 'reset unknown';
      out.push(`usage limit reached (${probe.errorCode ?? probe.reason}), ${when}`);
    }
  }
  return out;
}

function exhaustedReset(probe: ProbeResult): number | null {
  const fetched = Date.parse(probe.fetchedAt);
  if (probe.resetAfterSeconds != null && Number.isFinite(fetched)) return fetched + probe.resetAfterSeconds * 1000;
  const w = mainWindows(probe.snapshot).find((x) => (usedOf(x) ?? 0) >= 100);
  return resetAtMs(w ?? null, probe.snapshot?.fetchedAt ?? probe.fetchedAt);
}

function evidenceOf(account: Account, input: InspectionInput): InspectionEvidence {
  const p = input.probe;
  const snap = p?.snapshot ?? null;
  const expiresAt = input.token?.expiresAt ?? account.credentials.expiresAt;
  const fetched = p ? Date.parse(p.fetchedAt) : Number.NaN;
  let resetsAt: string | null = null;
  if (p?.resetAfterSeconds != null && Number.isFinite(fetched))
    resetsAt = new Date(fetched + p.resetAfterSeconds * 1000).toISOString();
  return {
    httpStatus: p?.httpStatus ?? null,
    probeReason: p?.reason ?? null,
    errorCode: p?.errorCode ?? null,
    message: sanitizeMessage(p?.message),
    plan: snap?.plan ?? account.plan ?? null,
    windows: (snap?.windows ?? []).map((w) => ({
      kind: w.kind,
      scope: w.scope,
      limitName: w.limitName,
      usedPercent: usedOf(w),
      resetsAt:
        w.resetsAt ??
        (resetAtMs(w, snap?.fetchedAt) != null
          ? new Date(resetAtMs(w, snap?.fetchedAt) as number).toISOString()
          : null),
    })),
    limitReached: snap?.limitReached ?? null,
    resetsAt,
    tokenExpiresAt: expiresAt != null ? new Date(expiresAt).toISOString() : null,
    source: p?.source ?? null,
    probedAt: p?.fetchedAt ?? null,
    transient: p?.transient ?? false,
    ...(input.requests ? { requests: input.requests } : {}),
  };
}

/** What the decision could not see. Only facts the probe should have carried count as missing. */
function missingOf(e: InspectionEvidence, probe: ProbeResult | null): string[] {
  const missing: string[] = [];
  if (!probe) return ['probe result'];
  if (e.httpStatus == null) missing.push('http status');
  const answered = !probe.transient && (probe.state === 'ok' || probe.state === 'exhausted');
  if (probe.transient || probe.state === 'unknown') missing.push('account state (probe failed)');
  if (answered) {
    const main = e.windows.filter((w) => w.scope === 'primary' || w.scope === 'secondary');
    if (!main.length && probe.state === 'ok') missing.push('quota windows');
    for (const w of main) {
      if (w.usedPercent == null) missing.push(`${w.kind} used %`);
      if (w.resetsAt == null) missing.push(`${w.kind} reset time`);
    }
    if (probe.state === 'exhausted' && !main.length && e.resetsAt == null) missing.push('reset time');
  }
  if (e.plan == null) missing.push('plan');
  if (e.tokenExpiresAt == null) missing.push('token expiry');
  return missing;
}

/** One short line, secrets masked, HTML replaced: upstream messages are evidence, not raw bodies. */
export function sanitizeMessage(message: string | null | undefined): string | null {
  if (message == null) return null;
  if (/<\s*(html|!doctype|head|body)\b/i.test(message)) return 'HTML page (not an API answer)';
  const line = message.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return sanitizeUpstreamMessage(line);
}
