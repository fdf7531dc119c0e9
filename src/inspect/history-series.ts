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

/** What one account adds to the pool: whether it could serve, and its remaining % per window. */
export interface PoolMember {
  usable: boolean;
  remaining: Record<ForecastWindowKind, number | null>;
}

/** The pool at one moment: accounts known and usable, and sum and count of remaining % per window. */
export interface PoolTotals {
  known: number;
  usable: number;
  sum: Record<ForecastWindowKind, number>;
  count: Record<ForecastWindowKind, number>;
}

/** A stored pool summary row: the pool as it stood at the end of the grain-long bucket at bucketAt. */
export interface PoolSummaryRow extends PoolTotals {
  bucketAt: number;
}

/** The pool summary's grain: the smallest series step, so every step is a whole number of rows. */
export const POOL_SUMMARY_GRAIN_MS = SERIES_STEPS_MS[0];

/**
 * The pool rule for one conclusive sample: usable when the state is ok and no main window it reports
 * is at 0% (only remaining % matters here, no reset times: this runs for every stored sample).
 */
export function poolMember(s: Pick<HistorySample, 'state' | 'windows'>): PoolMember {
  const remaining = Object.fromEntries(
    FORECAST_WINDOWS.map((kind) => [
      kind,
      remainingOf(s.windows.find((x) => x.kind === kind && MAIN_SCOPES.has(x.scope)) ?? null),
    ]),
  ) as PoolMember['remaining'];
  const usable = s.state === 'ok' && FORECAST_WINDOWS.every((k) => remaining[k] == null || remaining[k] > 0);
  return { usable, remaining };
}

export function emptyPoolTotals(): PoolTotals {
  const zero = () => Object.fromEntries(FORECAST_WINDOWS.map((k) => [k, 0])) as Record<ForecastWindowKind, number>;
  return { known: 0, usable: 0, sum: zero(), count: zero() };
}

/** The pool after one account's part changed from `before` (null: not known yet) to `after`. */
export function applyPoolMember(totals: PoolTotals, before: PoolMember | null, after: PoolMember): PoolTotals {
  const out: PoolTotals = {
    known: totals.known,
    usable: totals.usable,
    sum: { ...totals.sum },
    count: { ...totals.count },
  };
  const add = (m: PoolMember, sign: 1 | -1) => {
    out.known += sign;
    if (m.usable) out.usable += sign;
    for (const k of FORECAST_WINDOWS) {
      const r = m.remaining[k];
      if (r == null) continue;
      out.sum[k] += sign * r;
      out.count[k] += sign;
    }
  };
  if (before) add(before, -1);
  add(after, 1);
  return out;
}

/**
 * Folds conclusive samples, oldest first, into summary rows: one per grain bucket that holds a sample,
 * each the pool at that bucket's end. Starts from the members (each account's latest part) before the
 * first sample; `members` and `totals` then hold the state after the last one.
 */
export class PoolSummaryBuilder {
  readonly members: Map<string, { fetchedAt: number; member: PoolMember }>;
  totals: PoolTotals;
  readonly #rows: PoolSummaryRow[] = [];

  constructor(members: Iterable<[string, { fetchedAt: number; member: PoolMember }]> = []) {
    this.members = new Map(members);
    let totals = emptyPoolTotals();
    for (const { member } of this.members.values()) totals = applyPoolMember(totals, null, member);
    this.totals = totals;
  }

  add(s: Pick<HistorySample, 'accountId' | 'fetchedAt' | 'state' | 'windows'>): void {
    const old = this.members.get(s.accountId);
    if (old && old.fetchedAt > s.fetchedAt) return;
    const member = poolMember(s);
    this.totals = applyPoolMember(this.totals, old?.member ?? null, member);
    this.members.set(s.accountId, { fetchedAt: s.fetchedAt, member });
    const bucketAt = Math.floor(s.fetchedAt / POOL_SUMMARY_GRAIN_MS) * POOL_SUMMARY_GRAIN_MS;
    const last = this.#rows.at(-1);
    if (last && last.bucketAt === bucketAt) this.#rows[this.#rows.length - 1] = { bucketAt, ...this.totals };
    else this.#rows.push({ bucketAt, ...this.totals });
  }

  /** The rows built since the last call. */
  take(): PoolSummaryRow[] {
    return this.#rows.splice(0, this.#rows.length);
  }

  /** Like take(), but keeps the newest row, whose bucket later samples may still change (batched writes). */
  takeClosed(): PoolSummaryRow[] {
    return this.#rows.splice(0, Math.max(0, this.#rows.length - 1));
  }
}

/**
 * The pool over time from summary rows (oldest first; a row before range.from carries the pool in):
 * each bucket shows the pool at its end, i.e. the newest row before it ends. Null before the first row.
 */
export function poolSeriesFromSummary(
  rows: readonly PoolSummaryRow[],
  range: SeriesRange,
  forecast: PoolForecast | null,
): PoolSeries {
  const t = bucketTimes(range);
  const usable = new Array<number | null>(t.length).fill(null);
  const known = new Array<number | null>(t.length).fill(null);
  const meanRemaining = emptySeries(t.length);
  let j = 0;
  let current: PoolSummaryRow | null = null;
  for (let i = 0; i < t.length; i++) {
    const end = t[i] + range.stepMs;
    for (; j < rows.length && rows[j].bucketAt < end; j++) current = rows[j];
    if (!current || current.known === 0) continue;
    usable[i] = current.usable;
    known[i] = current.known;
    for (const kind of FORECAST_WINDOWS) {
      const n = current.count[kind];
      meanRemaining[kind][i] = n === 0 ? null : round1(current.sum[kind] / n);
    }
  }
  return { ...range, t, usable, known, meanRemaining, forecast };
}

/**
 * The pool over time from samples: every account's latest sample is carried forward to each bucket
 * end, then usable accounts are counted and remaining % averaged. Buckets before the first sample are
 * null. The same rule as the stored summary (PoolSummaryBuilder), for a handful of samples.
 */
export function poolSeries(
  samples: readonly HistorySample[],
  range: SeriesRange,
  forecast: PoolForecast | null,
): PoolSeries {
  const sorted = samples.filter((s) => !s.transient).sort((a, b) => a.fetchedAt - b.fetchedAt);
  const builder = new PoolSummaryBuilder();
  for (const s of sorted) builder.add(s);
  return poolSeriesFromSummary(builder.take(), range, forecast);
}

const round1 = (n: number) => Math.round(n * 10) / 10;
