// Forecast: from stored snapshot history, each account's burn rate per window (least squares over
// the samples since the window's last reset), when it runs out compared with when it resets, and
// when the pool runs out and gets capacity back. A window that resets before it would run out is
// no alarm.
import type { QuotaSnapshot, WindowKind } from '../domain/quota.ts';
import { formatDuration } from '../domain/time.ts';
import { mainWindow, resetAtMs, usedOf } from './windows.ts';

export const FORECAST_WINDOWS = ['5h', 'weekly', 'monthly'] as const satisfies readonly WindowKind[];
export type ForecastWindowKind = (typeof FORECAST_WINDOWS)[number];

export const FORECAST_CONFIDENCES = ['none', 'low', 'medium', 'high'] as const;
export type ForecastConfidence = (typeof FORECAST_CONFIDENCES)[number];

export interface SnapshotHistory {
  accountId: string;
  name: string;
  /** False for accounts that cannot serve anyway (disabled, auth error): left out of the pool. */
  usable?: boolean;
  /**
   * True when the latest check says no rate-limit windows apply (StatusResult.windowless; stored
   * snapshots do not carry it). Defaults to the latest snapshot's own `windowless`.
   */
  windowless?: boolean;
  snapshots: readonly QuotaSnapshot[];
}

export interface WindowForecast {
  kind: ForecastWindowKind;
  /** Used % at the latest sample. */
  usedPercent: number;
  sampledAt: number;
  /** Samples since the window's last reset, and the time they span. */
  samples: number;
  spanMinutes: number;
  /** Percentage points per hour; null when there are too few samples. */
  burnRatePerHour: number | null;
  resetsAt: number | null;
  /** When it reaches 100% at this rate; null when it does not (not burning, or unknown rate). */
  exhaustsAt: number | null;
  exhausted: boolean;
  /** Runs out (or ran out) before its reset. */
  alarm: boolean;
  confidence: ForecastConfidence;
  note: string;
}

export interface AccountForecast {
  accountId: string;
  name: string;
  usable: boolean;
  /** No rate-limit windows apply: capacity that never runs out by a window, and no run-out is forecast. */
  windowless?: boolean;
  windows: WindowForecast[];
  exhaustedNow: boolean;
  /** When the account runs out before a reset rescues it (future), null when it does not. */
  runsOutAt: number | null;
  /** When an exhausted (or soon exhausted) account serves again; null when unknown or never out. */
  capacityReturnsAt: number | null;
  confidence: ForecastConfidence;
}

export interface PoolForecast {
  accounts: number;
  /** Usable accounts without quota samples: unknown, so not counted as capacity. */
  withoutData: number;
  /** Usable accounts without rate-limit windows (credits, spend controls): counted as capacity that does not run out. */
  windowless?: number;
  usableNow: number;
  exhaustedNow: number;
  /** When every usable account is out at once; null when that does not happen at current rates. */
  runsOutAt: number | null;
  /** When the first account serves again after that; null when unknown or not needed. */
  capacityReturnsAt: number | null;
  alarm: boolean;
  note: string;
}

export interface Forecast {
  generatedAt: number;
  accounts: AccountForecast[];
  pool: PoolForecast;
}

export interface ForecastOptions {
  now: number;
}

interface Sample {
  t: number;
  used: number;
  resetAt: number | null;
}

/** A reset moved by more than this is a new window, not jitter of reset_after_seconds. */
const RESET_JITTER_MS = 10 * 60_000;
/** A drop in used % by more than this means the window reset between samples. */
const DROP_POINTS = 1;

/** Snapshots with a readable time, oldest first (sorted only when they are not already). */
interface Timed {
  t: number;
  s: QuotaSnapshot;
}

function timeline(snapshots: readonly QuotaSnapshot[]): Timed[] {
  const out: Timed[] = [];
  let sorted = true;
  for (const s of snapshots) {
    const t = Date.parse(s.fetchedAt);
    if (!Number.isFinite(t)) continue;
    if (out.length && t < out[out.length - 1].t) sorted = false;
    out.push({ t, s });
  }
  if (!sorted) out.sort((a, b) => a.t - b.t); // stable: equal times keep their input order
  return out;
}

/** Between two consecutive samples the window reset (used dropped, reset passed, or reset moved). */
function resetBetween(prev: Sample, cur: Sample): boolean {
  if (cur.used < prev.used - DROP_POINTS) return true;
  if (prev.resetAt != null && cur.t >= prev.resetAt) return true;
  return prev.resetAt != null && cur.resetAt != null && cur.resetAt - prev.resetAt > RESET_JITTER_MS;
}

/**
 * Walks back from the newest sample to the last reset, so only the current window's samples are
 * read (1,000 accounts × 8 days of history made the forward walk over everything the pool's cost).
 */
function samplesOf(tl: readonly Timed[], kind: WindowKind): Sample[] {
  const out: Sample[] = [];
  let cur: Sample | null = null;
  for (let i = tl.length - 1; i >= 0; i--) {
    const { t, s } = tl[i];
    const w = mainWindow(s, kind);
    const used = usedOf(w);
    if (used == null) continue;
    const sample = { t, used, resetAt: resetAtMs(w, s.fetchedAt) };
    if (cur && resetBetween(sample, cur)) break;
    out.push(sample);
    cur = sample;
  }
  return out.reverse();
}

/** Samples of one window since its last reset, oldest first. */
export function samplesSinceReset(snapshots: readonly QuotaSnapshot[], kind: WindowKind): Sample[] {
  return samplesOf(timeline(snapshots), kind);
}

/** Least-squares slope of used % over hours; null for fewer than two distinct times. */
export function burnRate(samples: readonly Sample[]): number | null {
  if (samples.length < 2) return null;
  const t0 = samples[0].t;
  const xs = samples.map((s) => (s.t - t0) / 3_600_000);
  const ys = samples.map((s) => s.used);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

function confidenceOf(n: number, spanMin: number): ForecastConfidence {
  if (n < 2 || spanMin < 1) return 'none';
  if (n < 3 || spanMin < 15) return 'low';
  if (n < 6 || spanMin < 60) return 'medium';
  return 'high';
}

export function forecastWindow(
  snapshots: readonly QuotaSnapshot[],
  kind: ForecastWindowKind,
  now: number,
): WindowForecast | null {
  return windowForecastOf(samplesSinceReset(snapshots, kind), kind, now);
}

function windowForecastOf(samples: Sample[], kind: ForecastWindowKind, now: number): WindowForecast | null {
  if (!samples.length) return null;
  const last = samples[samples.length - 1];
  const spanMinutes = (last.t - samples[0].t) / 60_000;
  const base = {
    kind,
    usedPercent: last.used,
    sampledAt: last.t,
    samples: samples.length,
    spanMinutes,
    resetsAt: last.resetAt,
  };
  if (last.resetAt != null && now >= last.resetAt) {
    return {
      ...base,
      burnRatePerHour: null,
      exhaustsAt: null,
      exhausted: false,
      alarm: false,
      confidence: 'none',
      note: 'reset since the last sample; no data for the new window',
    };
  }
  const rate = burnRate(samples);
  let confidence = confidenceOf(samples.length, spanMinutes);
  if (rate == null) confidence = 'none';
  const untilReset =
    last.resetAt != null ? `its reset in ${formatDuration((last.resetAt - now) / 1000)}` : 'an unknown reset';
  if (last.used >= 100) {
    return {
      ...base,
      burnRatePerHour: rate,
      exhaustsAt: last.t,
      exhausted: true,
      alarm: true,
      confidence,
      note: `exhausted; capacity returns at ${untilReset}`,
    };
  }
  const few =
    confidence === 'none'
      ? `too few samples (${samples.length} over ${formatDuration(spanMinutes * 60)}) since the last reset`
      : null;
  if (rate == null)
    return {
      ...base,
      burnRatePerHour: null,
      exhaustsAt: null,
      exhausted: false,
      alarm: false,
      confidence,
      note: few ?? 'no burn rate',
    };
  if (rate <= 0) {
    return {
      ...base,
      burnRatePerHour: rate,
      exhaustsAt: null,
      exhausted: false,
      alarm: false,
      confidence,
      note: few ?? 'not burning',
    };
  }
  const exhaustsAt = last.t + ((100 - last.used) / rate) * 3_600_000;
  const alarm = last.resetAt == null || exhaustsAt < last.resetAt;
  const runs = `runs out in ${formatDuration((exhaustsAt - now) / 1000)}`;
  let note = alarm ? `${runs}, before ${untilReset}` : `${runs}, after ${untilReset}: no alarm`;
  if (few) note = `${note} (${few})`;
  return { ...base, burnRatePerHour: rate, exhaustsAt, exhausted: false, alarm, confidence, note };
}

const RANK: Record<ForecastConfidence, number> = { none: 0, low: 1, medium: 2, high: 3 };

export function forecastAccount(h: SnapshotHistory, now: number): AccountForecast {
  // Times are parsed once for the three windows and the latest snapshot.
  const tl = timeline(h.snapshots);
  let last = tl.length - 1;
  while (last > 0 && tl[last - 1].t === tl[last].t) last--; // of equal times, the first given
  const latest = tl[last]?.s;
  const windowless = h.windowless ?? latest?.windowless === true;
  if (windowless) {
    // Nothing to extrapolate: no window fills, so no run-out time is invented.
    return {
      accountId: h.accountId,
      name: h.name,
      usable: h.usable !== false,
      windowless: true,
      windows: [],
      exhaustedNow: false,
      runsOutAt: null,
      capacityReturnsAt: null,
      confidence: 'none',
    };
  }
  const windows = FORECAST_WINDOWS.map((k) => windowForecastOf(samplesOf(tl, k), k, now)).filter(
    (w): w is WindowForecast => w != null,
  );
  const exhausted = windows.filter((w) => w.exhausted);
  const alarmed = windows.filter((w) => !w.exhausted && w.alarm && w.exhaustsAt != null);
  const maxReset = (ws: WindowForecast[]) =>
    ws.some((w) => w.resetsAt == null) ? null : Math.max(...ws.map((w) => w.resetsAt as number));
  const exhaustedNow = exhausted.length > 0;
  const runsOutAt = exhaustedNow || !alarmed.length ? null : Math.min(...alarmed.map((w) => w.exhaustsAt as number));
  // Capacity returns only when every window that is (or will be) out has reset.
  const out = exhaustedNow ? exhausted : alarmed;
  const capacityReturnsAt = out.length ? maxReset(out) : null;
  const relevant = out.length ? out : windows;
  const confidence = relevant.length
    ? relevant.reduce<ForecastConfidence>((c, w) => (RANK[w.confidence] < RANK[c] ? w.confidence : c), 'high')
    : 'none';
  return {
    accountId: h.accountId,
    name: h.name,
    usable: h.usable !== false,
    windowless: false,
    windows,
    exhaustedNow,
    runsOutAt,
    capacityReturnsAt,
    confidence,
  };
}

/**
 * The pool is out while every usable account is out: account i is out over
 * [runsOut_i, capacityReturns_i). The outage starts at the latest run-out and ends at the first
 * return, if the first comes after the last.
 */
export function forecastPool(accounts: readonly AccountForecast[], now: number): PoolForecast {
  const usable = accounts.filter((a) => a.usable);
  // A windowless account is capacity with no run-out (start() is +∞ for it), so the pool never runs out.
  const pool = usable.filter((a) => a.windows.length > 0 || a.windowless === true);
  const exhaustedNow = pool.filter((a) => a.exhaustedNow).length;
  const base = {
    accounts: pool.length,
    withoutData: usable.length - pool.length,
    windowless: pool.filter((a) => a.windowless).length,
    usableNow: pool.length - exhaustedNow,
    exhaustedNow,
  };
  if (!pool.length)
    return { ...base, runsOutAt: null, capacityReturnsAt: null, alarm: false, note: 'no usable accounts to forecast' };
  const start = (a: AccountForecast) => (a.exhaustedNow ? now : (a.runsOutAt ?? Number.POSITIVE_INFINITY));
  const end = (a: AccountForecast) => a.capacityReturnsAt ?? Number.POSITIVE_INFINITY;
  const outageStart = Math.max(...pool.map(start));
  const outageEnd = Math.min(...pool.map(end));
  if (!Number.isFinite(outageStart) || outageStart >= outageEnd) {
    return {
      ...base,
      runsOutAt: null,
      capacityReturnsAt: null,
      alarm: false,
      note: 'the pool does not run out at current burn rates',
    };
  }
  const capacityReturnsAt = Number.isFinite(outageEnd) ? outageEnd : null;
  const back =
    capacityReturnsAt != null
      ? `capacity returns in ${formatDuration((capacityReturnsAt - now) / 1000)}`
      : 'capacity return unknown';
  const note =
    outageStart <= now
      ? `pool exhausted now; ${back}`
      : `pool runs out in ${formatDuration((outageStart - now) / 1000)}; ${back}`;
  return { ...base, runsOutAt: outageStart, capacityReturnsAt, alarm: true, note };
}

export function buildForecast(histories: readonly SnapshotHistory[], opts: ForecastOptions): Forecast {
  const accounts = histories.map((h) => forecastAccount(h, opts.now));
  return { generatedAt: opts.now, accounts, pool: forecastPool(accounts, opts.now) };
}

/** Countdowns in the notes are relative to `f.generatedAt`. */
export function renderForecastText(f: Forecast): string {
  const out: string[] = ['Forecast (at current burn rates)', ''];
  if (!f.accounts.length) out.push('  No snapshot history yet: run `codex-fleet report --live` a few times first.');
  const width = Math.max(0, ...f.accounts.map((a) => a.name.length));
  for (const a of f.accounts) {
    if (a.windowless) {
      out.push(`  ${a.name.padEnd(width)}  no rate-limit windows: usable, nothing runs out by a window`);
      continue;
    }
    if (!a.windows.length) {
      out.push(`  ${a.name.padEnd(width)}  no quota samples`);
      continue;
    }
    a.windows.forEach((w, i) => {
      const rate =
        w.burnRatePerHour == null
          ? '     ?/h'
          : `${w.burnRatePerHour >= 0 ? '+' : ''}${w.burnRatePerHour.toFixed(1)}%/h`.padStart(8);
      const conf = `${w.confidence} confidence, ${w.samples} sample${w.samples === 1 ? '' : 's'}`;
      out.push(
        `  ${(i === 0 ? a.name : '').padEnd(width)}  ${w.kind.padEnd(7)} ${`${Math.round(w.usedPercent)}%`.padStart(4)} used  ${rate}  ${w.alarm ? '!' : ' '} ${w.note} [${conf}]`,
      );
    });
  }
  out.push('', 'Pool');
  const unknown =
    (f.pool.windowless ? `, ${f.pool.windowless} without rate-limit windows` : '') +
    (f.pool.withoutData ? ` (${f.pool.withoutData} more without data, not counted)` : '');
  out.push(`  ${f.pool.accounts} accounts, ${f.pool.usableNow} usable now, ${f.pool.exhaustedNow} exhausted${unknown}`);
  out.push(`  ${f.pool.alarm ? '! ' : ''}${f.pool.note}`);
  return `${out.join('\n')}\n`;
}
