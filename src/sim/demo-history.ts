// A week of history for the demo store, so charts and the forecast have data the moment the demo
// starts: quota snapshots every 30 minutes per simulated account (windows filling at the account's
// burn rate and resetting on schedule, auth failures for the broken scenarios) and a week of proxy
// traffic (src/sim/traffic.ts) through the monitoring ingest. Deterministic for a seed.
import type { AccountState, ProbeReason, QuotaWindow, WindowKind } from '../domain/quota.ts';
import type { SnapshotInput } from '../store/snapshots-repo.ts';
import { createRng } from './rng.ts';
import { SCENARIOS, type ScenarioName } from './scenarios.ts';
import { createTraffic, type TrafficAccount } from './traffic.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface DemoHistoryAccount {
  accountId: string;
  scenario: ScenarioName;
  plan: string;
  /** The simulator's spec for this account now: history ends where the simulator starts. */
  primaryUsedPercent?: number;
  secondaryUsedPercent?: number;
  primaryResetAfterSeconds?: number;
  secondaryResetAfterSeconds?: number;
}

/** What one seeded snapshot holds (the SnapshotsRepo's insert shape, minus what is constant). */
export interface DemoSnapshot {
  accountId: string;
  fetchedAt: number;
  state: AccountState;
  reason: ProbeReason;
  httpStatus: number;
  plan: string;
  windows: QuotaWindow[];
}

const AUTH_BROKEN: Partial<Record<ScenarioName, [AccountState, ProbeReason, number]>> = {
  'expired-token': ['auth_expired', 'access_token_expired', 401],
  'refresh-invalidated': ['auth_invalid', 'refresh_token_dead', 401],
  'deactivated-workspace': ['workspace_deactivated', 'deactivated_workspace', 402],
  'account-deactivated': ['blocked', 'account_blocked', 401],
};

function window(
  kind: WindowKind,
  scope: 'primary' | 'secondary',
  seconds: number,
  used: number,
  resetsAt: number,
  t: number,
): QuotaWindow {
  const u = Math.max(0, Math.min(100, Math.round(used * 10) / 10));
  return {
    kind,
    scope,
    limitName: null,
    usedPercent: u,
    remainingPercent: Math.round((100 - u) * 10) / 10,
    windowSeconds: seconds,
    resetAfterSeconds: Math.max(0, Math.round((resetsAt - t) / 1000)),
    resetsAt: new Date(resetsAt).toISOString(),
  };
}

/**
 * A window that resets every `period`, its current period ending at `endAt` with `usedNow` % used at
 * `now`: every earlier period filled at the same steady rate (what the forecast then fits).
 */
function cycle(
  t: number,
  now: number,
  period: number,
  endAt: number,
  usedNow: number,
): { used: number; resetsAt: number } {
  const elapsedNow = (now - (endAt - period)) / HOUR;
  const rate = elapsedNow > 0 ? usedNow / elapsedNow : 0;
  const start = endAt - period * Math.ceil((endAt - t) / period);
  return { used: ((t - start) / HOUR) * rate, resetsAt: start + period };
}

/** Snapshots for [now - days, now): pure, deterministic for the seed. */
export function demoSnapshots(
  accounts: readonly DemoHistoryAccount[],
  now: number,
  days = 7,
  seed = 11,
): DemoSnapshot[] {
  const rng = createRng(seed);
  const out: DemoSnapshot[] = [];
  for (const a of accounts) {
    const def = SCENARIOS[a.scenario];
    const layout = def?.layout ?? 'standard';
    const used1 = a.primaryUsedPercent ?? def?.primaryUsedPercent ?? 10;
    const used2 = a.secondaryUsedPercent ?? def?.secondaryUsedPercent ?? 40;
    const end1 = now + (a.primaryResetAfterSeconds ?? 3 * 3600) * 1000;
    const end2 = now + (a.secondaryResetAfterSeconds ?? 3 * 86_400) * 1000;
    const broken = AUTH_BROKEN[a.scenario];
    // Broken accounts worked until a day or two ago.
    const brokeAt = now - Math.floor((1 + rng()) * DAY);
    for (let t = now - days * DAY; t < now; t += 30 * MIN + Math.floor(rng() * 4 * MIN)) {
      if (broken && t >= brokeAt) {
        out.push({
          accountId: a.accountId,
          fetchedAt: t,
          state: broken[0],
          reason: broken[1],
          httpStatus: broken[2],
          plan: a.plan,
          windows: [],
        });
        continue;
      }
      const windows: QuotaWindow[] = [];
      if (layout === 'weekly-only') {
        const w = cycle(t, now, 7 * DAY, end1, used1);
        windows.push(window('weekly', 'primary', 604_800, w.used, w.resetsAt, t));
      } else {
        const five = cycle(t, now, 5 * HOUR, end1, used1);
        windows.push(window('5h', 'primary', 18_000, five.used, five.resetsAt, t));
        const long = cycle(t, now, layout === 'monthly' ? 30 * DAY : 7 * DAY, end2, used2);
        windows.push(
          layout === 'monthly'
            ? window('monthly', 'secondary', 2_592_000, long.used, long.resetsAt, t)
            : window('weekly', 'secondary', 604_800, long.used, long.resetsAt, t),
        );
      }
      const exhausted = windows.some((w) => (w.usedPercent ?? 0) >= 100);
      out.push({
        accountId: a.accountId,
        fetchedAt: t,
        state: exhausted ? 'exhausted' : 'ok',
        reason: exhausted ? 'window_exhausted' : 'quota_available',
        httpStatus: 200,
        plan: a.plan,
        windows,
      });
    }
  }
  return out.sort((x, y) => x.fetchedAt - y.fetchedAt);
}

export interface DemoHistoryTargets {
  /** SnapshotsRepo.insert */
  insertSnapshot(s: SnapshotInput): Promise<unknown>;
  /** MonitorIngest.ingestRaw (JSON lines) */
  ingestRaw(lines: readonly string[]): Promise<unknown>;
}

/** Writes the week of snapshots and traffic. Returns how much was written. */
export async function seedDemoHistory(
  targets: DemoHistoryTargets,
  accounts: readonly DemoHistoryAccount[],
  traffic: readonly TrafficAccount[],
  now: number,
  days = 7,
): Promise<{ snapshots: number; requests: number }> {
  const snapshots = demoSnapshots(accounts, now, days);
  for (const s of snapshots) {
    const exhausted = s.state === 'exhausted';
    await targets.insertSnapshot({
      ...s,
      errorCode: null,
      message: null,
      allowed: s.state === 'ok' ? true : exhausted ? false : null,
      limitReached: exhausted ? true : s.state === 'ok' ? false : null,
      rateLimitReachedType: null,
      credits: null,
      resetAfterSeconds: null,
      retryAfterSeconds: null,
      source: 'network',
      transient: false,
      attempts: 1,
      usagePath: null,
    });
  }
  let requests = 0;
  if (traffic.length > 0) {
    const gen = createTraffic({ accounts: traffic, seed: 5 });
    let batch: string[] = [];
    for (const r of gen.between(now - days * DAY, now)) {
      batch.push(JSON.stringify(r));
      if (batch.length === 1000) {
        await targets.ingestRaw(batch);
        requests += batch.length;
        batch = [];
      }
    }
    if (batch.length) await targets.ingestRaw(batch);
    requests += batch.length;
  }
  return { snapshots: snapshots.length, requests };
}
