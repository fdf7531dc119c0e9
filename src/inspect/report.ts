// The HealthReport of `codex-fleet report`: built from stored (or freshly probed) evidence, with
// no I/O of its own, and rendered as the seed's text layout. The JSON shape is fixed by issue 5.
import type {
  HealthReport,
  HealthReportAccount,
  HealthReportAccountExtensions,
  HealthReportFlagged,
  HealthReportRecommendation,
  ReportMode,
} from '../domain/report.ts';
import { formatDuration } from '../domain/time.ts';
import { nextFlagState } from './flags.ts';
import {
  type AccountEvidence,
  DEFAULT_STATUS_SETTINGS,
  deriveStatus,
  type StatusResult,
  type StatusSettings,
} from './status.ts';
import { mainWindow, remainingOf, resetAtMs, tightestWindow } from './windows.ts';

export interface HealthReportInput {
  /**
   * One entry per account, in display order (index = position). `flag: undefined` derives the flag
   * from the probe alone; pass `null` or a stored FlagState to use the stored bookkeeping.
   */
  accounts: AccountEvidence[];
  /** The account the Codex CLI currently uses (its ChatGPT account id or codex-fleet id). */
  currentAccountId?: string | null;
  statusSettings?: StatusSettings;
  /** Issue 20: what requests through CPA said per account id, shown as `extensions.requests`. */
  requests?: ReadonlyMap<string, object>;
}

export interface HealthReportOptions {
  mode: ReportMode;
  model?: string;
  now: number;
}

interface Row {
  item: HealthReportAccount;
  status: StatusResult;
  flagged: boolean;
  /** Reset of the tightest window, for the recommendation tie-break. */
  tightestResetAt: number | null;
  tightestKind: string | null;
}

export function buildHealthReport(input: HealthReportInput, opts: HealthReportOptions): HealthReport {
  const settings = input.statusSettings ?? DEFAULT_STATUS_SETTINGS;
  const rows: Row[] = [];
  const flagged: HealthReportFlagged[] = [];
  input.accounts.forEach((ev, index) => {
    const probeTime = ev.probe ? Date.parse(ev.probe.fetchedAt) : opts.now;
    const flag = ev.flag !== undefined ? ev.flag : nextFlagState(null, ev.probe, probeTime);
    const status = deriveStatus(flag === ev.flag ? ev : { ...ev, flag }, opts.now, settings);
    const { account } = ev;
    const snap = status.basis?.snapshot ?? null;
    const q5 = remainingOf(mainWindow(snap, '5h'));
    const q7 = remainingOf(mainWindow(snap, 'weekly'));
    const qm = remainingOf(mainWindow(snap, 'monthly'));
    // Built field by field in the JSON's order, optional fields only when present: object spreads here cost a
    // cached report of 1000 accounts ~2% of its start.
    const item = { index } as HealthReportAccount;
    if (account.accountId) item.accountId = account.accountId;
    if (account.email) item.email = account.email;
    item.status = status.status;
    item.healthScore = status.healthScore;
    if (q5 != null) item.quota5hPercent = q5;
    if (q7 != null) item.quota7dPercent = q7;
    item.rateLimited = status.rateLimited;
    item.disabled = account.disabled;
    if (account.lastUsed != null) item.lastUsed = account.lastUsed;
    if (account.addedAt != null) item.addedAt = account.addedAt;
    // Issue 20's request outcomes ride along in extensions without being part of the report's schema type.
    const extensions: HealthReportAccountExtensions & { requests?: object } = {
      name: account.name,
      reasons: status.reasons,
      stale: status.stale,
    };
    if (status.resetsAt != null) extensions.resetsAt = status.resetsAt;
    if (status.basis) extensions.checkedAt = Date.parse(status.basis.fetchedAt);
    if (qm != null) extensions.quotaMonthlyPercent = qm;
    const plan = snap?.plan ?? account.plan;
    if (plan) extensions.plan = plan;
    if (ev.plan?.endsAt) extensions.planEndsAt = ev.plan.endsAt;
    if (ev.plan?.willRenew != null) extensions.planWillRenew = ev.plan.willRenew;
    const requests = input.requests?.get(account.id);
    if (requests) extensions.requests = requests;
    item.extensions = extensions;
    const tight = tightestWindow(snap);
    rows.push({
      item,
      status,
      flagged: flag != null,
      tightestResetAt: resetAtMs(tight, snap?.fetchedAt),
      tightestKind: tight?.kind ?? null,
    });
    if (flag) {
      flagged.push({
        ...(account.accountId ? { accountId: account.accountId } : {}),
        ...(account.email ? { email: account.email } : {}),
        flaggedAt: flag.flaggedAt,
        flaggedReason: flag.flaggedReason,
        ...(flag.lastVerified != null ? { lastVerified: flag.lastVerified } : {}),
        verificationCount: flag.verificationCount,
      });
    }
  });

  // By seat id; a bare workspace id only counts when it names one seat (seats of a Team share it).
  const byWorkspace = input.accounts.filter((e) => e.account.accountId === input.currentAccountId);
  const current = input.currentAccountId
    ? (input.accounts.find((e) => e.account.id === input.currentAccountId) ??
      (byWorkspace.length === 1 ? byWorkspace[0] : undefined))
    : undefined;
  const recommendation = recommend(rows, opts.now);
  return {
    generatedAt: opts.now,
    mode: opts.mode,
    ...(opts.model ? { model: opts.model } : {}),
    summary: {
      totalAccounts: rows.length,
      activeAccounts: rows.filter((r) => !r.item.disabled && !r.flagged).length,
      flaggedAccounts: flagged.length,
      ...(current?.account.email ? { currentAccountEmail: current.account.email } : {}),
    },
    accounts: rows.map((r) => r.item),
    flagged,
    ...(recommendation ? { recommendation } : {}),
  };
}

/**
 * Best account to use next: usable accounts ranked by most remaining quota in their tightest
 * window, then soonest reset of that window, then health score. When none is usable, the
 * rate-limited account whose capacity returns first.
 */
function recommend(rows: Row[], now: number): HealthReportRecommendation | undefined {
  const usable = rows.filter((r) => !r.flagged && (r.item.status === 'healthy' || r.item.status === 'warning'));
  if (usable.length) {
    const known = (r: Row) => r.status.tightestRemaining ?? -1;
    const reset = (r: Row) => r.tightestResetAt ?? Number.POSITIVE_INFINITY;
    const ranked = [...usable].sort(
      (a, b) =>
        known(b) - known(a) ||
        reset(a) - reset(b) ||
        b.item.healthScore - a.item.healthScore ||
        a.item.index - b.item.index,
    );
    const best = ranked[0];
    const parts: string[] = [];
    if (best.status.tightestRemaining != null) {
      const when =
        best.tightestResetAt != null ? `, resets in ${formatDuration((best.tightestResetAt - now) / 1000)}` : '';
      parts.push(
        `most remaining quota in its tightest window (${best.tightestKind}: ${Math.round(best.status.tightestRemaining)}% left${when})`,
      );
    } else if (best.status.windowless) {
      // No windows is not unknown: say why the account can serve ("no rate-limit windows: …").
      parts.push(best.status.reasons[0]);
    } else {
      parts.push('quota unknown, but no usable account has known quota');
    }
    parts.push(`health score ${best.item.healthScore}`);
    if (best.item.status === 'warning') parts.push(`warning: ${best.status.reasons.join('; ')}`);
    if (best.status.stale) parts.push('based on the last good check');
    if (ranked.length > 1) parts.push(`best of ${ranked.length} usable accounts`);
    return { index: best.item.index, ...emailOf(best), reasoning: capitalize(parts.join('; ')) };
  }
  const waiting = rows
    .filter((r) => !r.flagged && r.item.status === 'rate-limited' && r.status.resetsAt != null)
    .sort((a, b) => (a.status.resetsAt as number) - (b.status.resetsAt as number) || a.item.index - b.item.index);
  if (!waiting.length) return undefined;
  const first = waiting[0];
  return {
    index: first.item.index,
    ...emailOf(first),
    reasoning: `No account is usable now; this one gets capacity back first, in ${formatDuration(((first.status.resetsAt as number) - now) / 1000)}`,
  };
}

function emailOf(r: Row): { email?: string } {
  return r.item.email ? { email: r.item.email } : {};
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function label(a: { index: number; email?: string; accountId?: string; extensions?: { name: string } }): string {
  return `#${a.index + 1} ${a.email ?? a.extensions?.name ?? a.accountId ?? 'account'}`;
}

function pct(n: number | undefined): string {
  return n == null ? '-' : `${Math.round(n)}%`;
}

function ago(ms: number, now: number): string {
  return `${formatDuration((now - ms) / 1000)} ago`;
}

/** The seed's text layout: Summary, Active Accounts, Flagged Accounts, Recommendation. */
export function renderHealthReportText(report: HealthReport, now: number): string {
  const out: string[] = [];
  const mode = report.mode === 'live' ? `live${report.model ? `, model ${report.model}` : ''}` : 'from last check';
  out.push(`Codex Fleet Health Report (${mode})`);
  out.push(`Generated ${new Date(report.generatedAt).toISOString()}`, '');
  out.push('Summary');
  out.push(`  Total accounts:   ${report.summary.totalAccounts}`);
  out.push(`  Active accounts:  ${report.summary.activeAccounts}`);
  out.push(`  Flagged accounts: ${report.summary.flaggedAccounts}`);
  if (report.summary.currentAccountEmail) out.push(`  Current account:  ${report.summary.currentAccountEmail}`);
  out.push('');

  // Workspace and email together: seats of one Team workspace share the accountId, one may be flagged alone.
  const seatKey = (x: { accountId?: string; email?: string }) => `${x.accountId ?? ''}\u0000${x.email ?? ''}`;
  const flaggedSeats = new Set(report.flagged.map(seatKey));
  const isFlagged = (a: HealthReportAccount) => flaggedSeats.has(seatKey(a));
  const active = report.accounts.filter((a) => !isFlagged(a));
  out.push('Active Accounts');
  if (!active.length) out.push('  (none)');
  const width = Math.max(0, ...active.map((a) => label(a).length));
  for (const a of active) {
    const cols = [
      label(a).padEnd(width),
      a.status.padEnd(12),
      `score ${String(a.healthScore).padStart(3)}`,
      `5h ${pct(a.quota5hPercent).padStart(4)}`,
      `7d ${pct(a.quota7dPercent).padStart(4)}`,
    ];
    const resetsAt = a.extensions?.resetsAt;
    if (a.rateLimited)
      cols.push(
        resetsAt != null && resetsAt > now ? `Resets in ${formatDuration((resetsAt - now) / 1000)}` : 'Reset unknown',
      );
    if (a.extensions?.stale) cols.push('(stale)');
    out.push(`  ${cols.join('  ')}`);
    // Reasons explain a warning, and also an account without 5h/7d numbers (no rate-limit windows, a
    // spend limit): "-" there never means 0% left.
    const noNumbers = a.quota5hPercent == null && a.quota7dPercent == null;
    if ((noNumbers || (a.status !== 'healthy' && a.status !== 'rate-limited')) && a.extensions?.reasons.length) {
      out.push(`  ${' '.repeat(width)}  ${a.extensions.reasons.join('; ')}`);
    }
  }
  out.push('');

  out.push('Flagged Accounts');
  if (!report.flagged.length) out.push('  (none)');
  for (const f of report.flagged) {
    const verified =
      f.verificationCount > 0
        ? `verified ${f.verificationCount} time(s)${f.lastVerified != null ? `, last ${ago(f.lastVerified, now)}` : ''}`
        : 'not re-verified yet';
    out.push(
      `  ${f.email ?? f.accountId ?? 'account'}  ${f.flaggedReason}  flagged ${ago(f.flaggedAt, now)}; ${verified}`,
    );
  }
  out.push('');

  out.push('Recommendation');
  const rec = report.recommendation;
  if (!rec) out.push('  No account can be recommended: none is usable and none has a known reset.');
  else {
    const a = report.accounts[rec.index];
    out.push(`  Use ${a ? label(a) : `#${rec.index + 1}`}`);
    out.push(`  ${rec.reasoning}`);
  }
  return `${out.join('\n')}\n`;
}
