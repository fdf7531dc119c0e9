// Prometheus exposition for `codex-fleet metrics` and GET /metrics. A fresh Registry per call: no
// global state, so the server and the CLI build the same text from the same data.
// Labels carry account ids and names, never secrets; emails only when the operator opts in.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ProbeReason } from '../domain/quota.ts';
import { ACCOUNT_STATUSES, type AccountStatus } from '../domain/report.ts';
import { nextFlagState } from './flags.ts';
import { type AccountEvidence, DEFAULT_STATUS_SETTINGS, deriveStatus, type StatusSettings } from './status.ts';
import { remainingOf, resetAtMs } from './windows.ts';

export interface CollectorHealth {
  name: string;
  /** Seconds between the newest event stored and now; null when unknown. */
  lagSeconds: number | null;
  errorsTotal: number;
}

export interface MetricsInput {
  accounts: readonly AccountEvidence[];
  /** Cumulative probe failures by reason, from the store. */
  probeErrors?: Partial<Record<ProbeReason, number>>;
  collectors?: readonly CollectorHealth[];
  statusSettings?: StatusSettings;
  /** Issue 20: requests through CPA per account id over the last hour (two series per account, no type label). */
  requests?: ReadonlyMap<string, RequestCounts>;
}

/** An account's requests and failures through CPA over the last hour. */
export interface RequestCounts {
  requests: number;
  failures: number;
}

export interface MetricsOptions {
  now: number;
  /** Put account emails in labels (an `email` label, and unmasked names). Off by default. */
  includeEmails?: boolean;
}

export interface MetricsOutput {
  contentType: string;
  text: string;
}

const EMAIL = /[^\s@/\\]+@[^\s@/\\]+\.[A-Za-z]{2,}/g;

/** Account names are often emails (multi-auth, `codex-<email>.json`): masked unless opted in. */
export function accountLabel(name: string, includeEmails: boolean): string {
  return includeEmails ? name : name.replace(EMAIL, '[email]');
}

export async function buildMetrics(input: MetricsInput, opts: MetricsOptions): Promise<MetricsOutput> {
  const reg = new Registry();
  const includeEmails = opts.includeEmails === true;
  const accountLabels = includeEmails ? ['account_id', 'account', 'email'] : ['account_id', 'account'];
  const g = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [reg] });

  const remaining = g('codex_fleet_account_remaining_percent', 'Remaining quota % per window.', [
    ...accountLabels,
    'window',
    'scope',
    'limit',
  ]);
  const resetSeconds = g('codex_fleet_account_reset_seconds', 'Seconds until the window resets.', [
    ...accountLabels,
    'window',
    'scope',
    'limit',
  ]);
  const score = g('codex_fleet_account_health_score', 'Health score 0-100.', accountLabels);
  const status = g('codex_fleet_account_status', 'Account status: 1 for the current status, 0 for the others.', [
    ...accountLabels,
    'status',
  ]);
  const stale = g(
    'codex_fleet_account_stale',
    '1 when the account is shown from older data because the latest probe failed.',
    accountLabels,
  );
  const checked = g(
    'codex_fleet_account_last_check_timestamp_seconds',
    'When the data shown was fetched.',
    accountLabels,
  );
  const planEnds = g(
    'codex_fleet_account_plan_end_timestamp_seconds',
    "When the paid plan's current term ends (from the subscriptions endpoint).",
    accountLabels,
  );
  const planRenews = g(
    'codex_fleet_account_plan_will_renew',
    '1 when the plan renews at its end, 0 when it lapses.',
    accountLabels,
  );
  const poolAccounts = g('codex_fleet_pool_accounts', 'Accounts by status.', ['status']);
  const poolUsable = g(
    'codex_fleet_pool_usable_accounts',
    'Accounts that can serve requests now (healthy or warning).',
  );
  const poolCapacity = g(
    'codex_fleet_pool_usable_capacity_percent',
    'Sum over usable accounts of the remaining % in their tightest window (100 = one full account).',
  );
  const probeErrors = new Counter({
    name: 'codex_fleet_probe_errors_total',
    help: 'Failed probes by reason.',
    labelNames: ['reason'],
    registers: [reg],
  });
  const lag = g('codex_fleet_collector_lag_seconds', 'Usage collector lag.', ['collector']);
  const collectorErrors = new Counter({
    name: 'codex_fleet_collector_errors_total',
    help: 'Usage collector errors.',
    labelNames: ['collector'],
    registers: [reg],
  });
  const requestsHour = g(
    'codex_fleet_account_requests_last_hour',
    'Requests through CPA on this account in the last hour (from request monitoring).',
    accountLabels,
  );
  const failuresHour = g(
    'codex_fleet_account_request_failures_last_hour',
    'Failed requests through CPA on this account in the last hour.',
    accountLabels,
  );
  const generated = g('codex_fleet_metrics_generated_timestamp_seconds', 'When this exposition was built.');

  const settings = input.statusSettings ?? DEFAULT_STATUS_SETTINGS;
  const byStatus = Object.fromEntries(ACCOUNT_STATUSES.map((s) => [s, 0])) as Record<AccountStatus, number>;
  let usable = 0;
  let capacity = 0;
  for (const ev of input.accounts) {
    const probeTime = ev.probe ? Date.parse(ev.probe.fetchedAt) : opts.now;
    const flag = ev.flag !== undefined ? ev.flag : nextFlagState(null, ev.probe, probeTime);
    const st = deriveStatus({ ...ev, flag }, opts.now, settings);
    const labels: Record<string, string> = {
      account_id: ev.account.id,
      account: accountLabel(ev.account.name, includeEmails),
    };
    if (includeEmails) labels.email = ev.account.email ?? '';
    score.set(labels, st.healthScore);
    for (const s of ACCOUNT_STATUSES) status.set({ ...labels, status: s }, s === st.status ? 1 : 0);
    stale.set(labels, st.stale ? 1 : 0);
    if (st.basis) checked.set(labels, Date.parse(st.basis.fetchedAt) / 1000);
    if (ev.plan?.endsAt) planEnds.set(labels, Date.parse(ev.plan.endsAt) / 1000);
    if (ev.plan?.willRenew != null) planRenews.set(labels, ev.plan.willRenew ? 1 : 0);
    const req = input.requests?.get(ev.account.id);
    if (req) {
      requestsHour.set(labels, req.requests);
      failuresHour.set(labels, req.failures);
    }
    byStatus[st.status]++;
    if (st.status === 'healthy' || st.status === 'warning') {
      usable++;
      capacity += st.tightestRemaining ?? 0;
    }
    const snap = st.basis?.snapshot;
    if (!snap) continue;
    // Every window the payload carried, code review and additional limits included.
    for (const w of snap.windows) {
      const wl = { ...labels, window: w.kind, scope: w.scope, limit: w.limitName ?? '' };
      const r = remainingOf(w);
      if (r != null) remaining.set(wl, r);
      const at = resetAtMs(w, snap.fetchedAt);
      if (at != null) resetSeconds.set(wl, Math.max(0, (at - opts.now) / 1000));
    }
  }
  for (const s of ACCOUNT_STATUSES) poolAccounts.set({ status: s }, byStatus[s]);
  poolUsable.set(usable);
  poolCapacity.set(capacity);
  for (const [reason, n] of Object.entries(input.probeErrors ?? {}))
    if (n != null && n > 0) probeErrors.inc({ reason }, n);
  for (const c of input.collectors ?? []) {
    if (c.lagSeconds != null) lag.set({ collector: c.name }, c.lagSeconds);
    collectorErrors.inc({ collector: c.name }, Math.max(0, c.errorsTotal));
  }
  generated.set(opts.now / 1000);
  return { contentType: reg.contentType, text: await reg.metrics() };
}
