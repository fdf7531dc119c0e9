// Quota history as chart series: per account remaining % per window over time (with reset markers
// and the forecast's projected line), and the pool's usable accounts and mean remaining over time.
// Pure: samples, range and forecast in, series out; the range's step keeps any range to a few
// hundred points, so a 30-day chart is as small as a 1-hour one.
import type { AccountState, QuotaWindow } from '../domain/quota.ts';
import type { AccountForecast, ForecastWindowKind, PoolForecast } from './forecast.ts';
import { FORECAST_WINDOWS } from './forecast.ts';
import { remainingOf, resetAtMs } from './windows.ts';

const MINUTE = 60_000;
/** Steps a range may be cut into: each is a whole number of minutes, hours or days (rollup grains). */
export const SERIES_STEPS_MS = [1, 5, 15, 30, 60, 3 * 60, 6 * 60, 12 * 60, 24 * 60, 2 * 24 * 60, 7 * 24 * 60].map(
  (m) => m * MINUTE,
);
export const DEFAULT_MAX_POINTS = 240;

/** Named ranges the dashboard offers. */
export const SERIES_RANGES = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
export type SeriesRangeName = keyof typeof SERIES_RANGES;

export interface SeriesRange {
  /** Bucket-aligned start (ms, inclusive) and end (ms, exclusive). */
  from: number;
  to: number;
  stepMs: number;
}

/** The smallest step from the ladder that keeps [from, to) within maxPoints buckets; bounds aligned to it. */
export function pickRange(from: number, to: number, maxPoints = DEFAULT_MAX_POINTS): SeriesRange {
  if (!(Number.isFinite(from) && Number.isFinite(to) && to > from))
    throw new RangeError('range: from must be before to');
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) throw new RangeError('range: maxPoints must be 2 or more');
  const aligned = (stepMs: number) => ({
    from: Math.floor(from / stepMs) * stepMs,
    to: Math.ceil(to / stepMs) * stepMs,
    stepMs,
  });
  // Counted after alignment, so an unaligned range never gets one bucket more than asked.
  for (const step of SERIES_STEPS_MS) {
    const r = aligned(step);
    if ((r.to - r.from) / step <= maxPoints) return r;
  }
  return aligned(SERIES_STEPS_MS.at(-1)!);
}

/** Bucket start times of a range, oldest first. */
export function bucketTimes(r: SeriesRange): number[] {
  const out: number[] = [];
  for (let t = r.from; t < r.to; t += r.stepMs) out.push(t);
  return out;
}

/** What the series need of a stored snapshot. */
export interface HistorySample {
  accountId: string;
  fetchedAt: number;
  state: AccountState;
  transient: boolean;
  windows: readonly QuotaWindow[];
}

export type WindowSeries = Record<ForecastWindowKind, Array<number | null>>;

export interface ResetMarker {
  kind: ForecastWindowKind;
  at: number;
}

export interface Projection {
  kind: ForecastWindowKind;
  /** [time ms, remaining %] from the latest sample to run-out, reset or the horizon. */
  points: Array<[number, number]>;
  /** When the window reaches 0% at the current burn rate, when that is before its reset. */
  runsOutAt: number | null;
  resetsAt: number | null;
  burnRatePerHour: number | null;
}

export interface AccountSeries extends SeriesRange {
  accountId: string;
  t: number[];
  remaining: WindowSeries;
  resets: ResetMarker[];
  projections: Projection[];
  runsOutAt: number | null;
  capacityReturnsAt: number | null;
}

const RESET_JITTER_MS = 10 * MINUTE;
const MAIN_SCOPES = new Set(['primary', 'secondary']);

function mainRemaining(
  s: HistorySample,
  kind: ForecastWindowKind,
): { remaining: number | null; resetAt: number | null } {
  const w = s.windows.find((x) => x.kind === kind && MAIN_SCOPES.has(x.scope)) ?? null;
  return { remaining: remainingOf(w), resetAt: resetAtMs(w, new Date(s.fetchedAt).toISOString()) };
}

function emptySeries(n: number): WindowSeries {
  return Object.fromEntries(FORECAST_WINDOWS.map((k) => [k, new Array<number | null>(n).fill(null)])) as WindowSeries;
}

/**
 * One account: the last conclusive sample in each bucket (null where none), a reset marker wherever
 * the window's reset time moved on or its remaining % jumped up, and the forecast's projection.
 */
export function accountSeries(
  accountId: string,
  samples: readonly HistorySample[],
  range: SeriesRange,
  forecast: AccountForecast | null,
): AccountSeries {
  const t = bucketTimes(range);
  const remaining = emptySeries(t.length);
  const resets: ResetMarker[] = [];
  const sorted = samples.filter((s) => !s.transient).sort((a, b) => a.fetchedAt - b.fetchedAt);
  const prev = new Map<ForecastWindowKind, { remaining: number; resetAt: number | null }>();
  for (const s of sorted) {
    const i = Math.floor((s.fetchedAt - range.from) / range.stepMs);
    for (const kind of FORECAST_WINDOWS) {
      const cur = mainRemaining(s, kind);
      if (cur.remaining == null) continue;
      const p = prev.get(kind);
      if (p) {
        const movedOn = p.resetAt != null && cur.resetAt != null && cur.resetAt - p.resetAt > RESET_JITTER_MS;
        if (movedOn || cur.remaining - p.remaining > 1) {
          // The reset happened at the old reset time when it lies between the samples, else at this sample.
          const at = p.resetAt != null && p.resetAt <= s.fetchedAt ? p.resetAt : s.fetchedAt;
          if (at >= range.from && at < range.to) resets.push({ kind, at });
        }
      }
      prev.set(kind, cur as { remaining: number; resetAt: number | null });
      if (i >= 0 && i < t.length) remaining[kind][i] = round1(cur.remaining);
    }
  }
  return {
    ...range,
    accountId,
    t,
    remaining,
    resets,
    projections: forecast ? projections(forecast, range) : [],
    runsOutAt: forecast?.runsOutAt ?? null,
    capacityReturnsAt: forecast?.capacityReturnsAt ?? null,
  };
}

/** The forecast's line per window: from the latest sample at its burn rate until run-out or reset. */
export function projections(forecast: AccountForecast, range: SeriesRange): Projection[] {
  const horizon = range.to + (range.to - range.from) / 4;
  const out: Projection[] = [];
  for (const w of forecast.windows) {
    const start: [number, number] = [w.sampledAt, round1(100 - w.usedPercent)];
    const rate = w.burnRatePerHour;
    let end = horizon;
    if (w.exhaustsAt != null) end = Math.min(end, w.exhaustsAt);
    if (w.resetsAt != null) end = Math.min(end, w.resetsAt);
    const points: Array<[number, number]> = [start];
    if (rate != null && rate > 0 && end > w.sampledAt) {
      const left = 100 - w.usedPercent - (rate * (end - w.sampledAt)) / 3_600_000;
      points.push([end, round1(Math.max(0, left))]);
    } else if (end > w.sampledAt) {
      points.push([end, start[1]]);
    }
    out.push({
      kind: w.kind,
      points,
      runsOutAt: w.alarm && !w.exhausted ? w.exhaustsAt : null,
      resetsAt: w.resetsAt,
      burnRatePerHour: rate,
    });
  }
  return out;
}

export interface PoolSeries extends SeriesRange {
  t: number[];
  /** Accounts whose latest sample (carried forward) could serve. */
  usable: Array<number | null>;
  /** Accounts with any sample so far. */
  known: Array<number | null>;
  /** Mean remaining % per window over the accounts that report it. */
  meanRemaining: WindowSeries;
  forecast: PoolForecast | null;
}

/**
 * The pool over time: every account's latest sample is carried forward to each bucket end, then
 * usable accounts are counted and remaining % averaged. Buckets before the first sample are null.
 */
export function poolSeries(
  samples: readonly HistorySample[],
  range: SeriesRange,
  forecast: PoolForecast | null,
): PoolSeries {
  const t = bucketTimes(range);
  const usable = new Array<number | null>(t.length).fill(null);
  const known = new Array<number | null>(t.length).fill(null);
  const meanRemaining = emptySeries(t.length);
  const sorted = samples.filter((s) => !s.transient).sort((a, b) => a.fetchedAt - b.fetchedAt);
  const current = new Map<string, { usable: boolean; rem: Array<number | null> }>();
  let usableNow = 0;
  const sum = FORECAST_WINDOWS.map(() => 0);
  const cnt = FORECAST_WINDOWS.map(() => 0);
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    const end = t[i] + range.stepMs;
    for (; j < sorted.length && sorted[j].fetchedAt < end; j++) {
      const s = sorted[j];
      const old = current.get(s.accountId);
      if (old) {
        if (old.usable) usableNow--;
        old.rem.forEach((r, k) => {
          if (r == null) return;
          sum[k] -= r;
          cnt[k]--;
        });
      }
      // Only remaining % matters here (no reset times): this loop runs for accounts × buckets samples.
      const rem = FORECAST_WINDOWS.map((kind) =>
        remainingOf(s.windows.find((x) => x.kind === kind && MAIN_SCOPES.has(x.scope)) ?? null),
      );
      const ok = s.state === 'ok' && rem.every((r) => r == null || r > 0);
      current.set(s.accountId, { usable: ok, rem });
      if (ok) usableNow++;
      rem.forEach((r, k) => {
        if (r == null) return;
        sum[k] += r;
        cnt[k]++;
      });
    }
    if (current.size === 0) continue;
    usable[i] = usableNow;
    known[i] = current.size;
    FORECAST_WINDOWS.forEach((kind, k) => {
      meanRemaining[kind][i] = cnt[k] === 0 ? null : round1(sum[k] / cnt[k]);
    });
  }
  return { ...range, t, usable, known, meanRemaining, forecast };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
