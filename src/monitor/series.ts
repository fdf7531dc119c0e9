// Monitoring over time: requests, failures (by HTTP status), p50/p95 latency, tokens and estimated
// cost per time bucket, following the views' filters. Read from the minute/hour/day rollups when the
// filter allows (one rollup dimension; minute rollups only the total), else from raw events;
// `bucketSeries` is the pure part.
import type { Db, SqlValue } from '../store/db.ts';
import { estimateCost } from './cost.ts';
import { eventConditions, type MonitorFilter, resolveFilter } from './filters.ts';
import { DIMS, GRAIN_DAY, GRAIN_HOUR, GRAIN_MINUTE } from './ingest.ts';
import { BUCKET_COUNT, latencyBucketSql, percentileFromHistogram } from './latency.ts';
import { PAIR_DIMS, pairMark } from './pairs.ts';
import type { PriceTable } from './prices.ts';
import type { MonitorService } from './service.ts';

export interface SeriesWindow {
  from: number;
  to: number;
  stepMs: number;
}

/** One stored group of one bucket: sums and latency histogram, with the names that price it. */
export interface SeriesRow {
  bucket: number;
  provider: string | null;
  model: string | null;
  alias: string | null;
  tier: string | null;
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  totalTokens: number;
  hist: readonly number[];
}

export interface MonitorSeries extends SeriesWindow {
  t: number[];
  requests: number[];
  failures: number[];
  /** Failures per HTTP status ("429": [...]), from the status rollups. */
  failuresByStatus: Record<string, number[]>;
  latencyP50Ms: Array<number | null>;
  latencyP95Ms: Array<number | null>;
  tokens: number[];
  /** Estimated USD of the priced requests per bucket; null where none could be priced. */
  costUsd: Array<number | null>;
  source: 'rollup' | 'raw';
}

/** The rollup grain a step can be read from: the largest grain that divides it. */
export function grainFor(stepMs: number): number {
  if (stepMs % GRAIN_DAY === 0) return GRAIN_DAY;
  if (stepMs % GRAIN_HOUR === 0) return GRAIN_HOUR;
  if (stepMs % GRAIN_MINUTE === 0) return GRAIN_MINUTE;
  throw new RangeError(`series step ${stepMs} ms is not a whole number of minutes`);
}

/** Pure: rows (any order, any grouping within a bucket) into aligned per-bucket arrays. */
export function bucketSeries(
  w: SeriesWindow,
  rows: readonly SeriesRow[],
  failureRows: ReadonlyArray<{ bucket: number; status: number; failures: number }>,
  prices: PriceTable,
  source: MonitorSeries['source'],
): MonitorSeries {
  const n = Math.max(0, Math.ceil((w.to - w.from) / w.stepMs));
  const t = Array.from({ length: n }, (_, i) => w.from + i * w.stepMs);
  const requests = new Array<number>(n).fill(0);
  const failures = new Array<number>(n).fill(0);
  const tokens = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(0);
  const priced = new Array<boolean>(n).fill(false);
  const hist = Array.from({ length: n }, () => new Array<number>(BUCKET_COUNT).fill(0));
  const index = (bucket: number) => {
    const i = Math.floor((bucket - w.from) / w.stepMs);
    return i >= 0 && i < n ? i : -1;
  };
  for (const r of rows) {
    const i = index(r.bucket);
    if (i < 0) continue;
    requests[i] += r.requests;
    failures[i] += r.failures;
    tokens[i] += r.totalTokens;
    for (let b = 0; b < BUCKET_COUNT; b++) hist[i][b] += r.hist[b] ?? 0;
    const c = estimateCost(
      prices,
      { provider: r.provider, model: r.model, alias: r.alias, tier: r.tier },
      { input: r.inputTokens, cached: r.cachedTokens, output: r.outputTokens, reasoning: r.reasoningTokens },
    );
    if (c !== null) {
      cost[i] += c;
      priced[i] = true;
    }
  }
  const failuresByStatus: Record<string, number[]> = {};
  for (const f of failureRows) {
    const i = index(f.bucket);
    if (i < 0 || f.failures === 0) continue;
    const key = String(f.status);
    failuresByStatus[key] ??= new Array<number>(n).fill(0);
    failuresByStatus[key][i] += f.failures;
  }
  return {
    ...w,
    t,
    requests,
    failures,
    failuresByStatus,
    latencyP50Ms: hist.map((h) => percentileFromHistogram(h, 0.5)),
    latencyP95Ms: hist.map((h) => percentileFromHistogram(h, 0.95)),
    tokens,
    costUsd: cost.map((c, i) => (priced[i] ? Math.round(c * 1e6) / 1e6 : null)),
    source,
  };
}

const SUMS = [
  'requests',
  'failures',
  'input_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cached_tokens',
  'total_tokens',
] as const;
const HIST = Array.from({ length: BUCKET_COUNT }, (_, i) => `h${i}`);
type Raw = Record<string, number | null>;

/** Reads the series for a filter over a window (from/to aligned to stepMs). */
export async function readMonitorSeries(
  monitor: Pick<MonitorService, 'queries' | 'prices'>,
  filter: MonitorFilter,
  asked: SeriesWindow,
): Promise<MonitorSeries> {
  let w = asked;
  const { db, dict } = monitor.queries;
  const table = await monitor.prices();
  const r = await resolveFilter(dict, filter);
  if (r.empty) return bucketSeries(w, [], [], table, 'rollup');
  const f = r.filter;
  const rawOnly =
    f.failureType !== undefined ||
    f.outcome !== undefined ||
    f.minLatencyMs !== undefined ||
    f.maxLatencyMs !== undefined ||
    f.cacheState !== undefined ||
    f.requestId !== undefined;
  const dimFilters: Array<[number, number]> = [];
  if (r.ids.account !== undefined) dimFilters.push([DIMS.account, r.ids.account]);
  if (r.ids.apiKey !== undefined) dimFilters.push([DIMS.apiKey, r.ids.apiKey]);
  if (f.status !== undefined) dimFilters.push([DIMS.status, f.status]);
  if (r.ids.project !== undefined) dimFilters.push([DIMS.project, r.ids.project]);
  let rows: Raw[];
  let failureRows: Raw[];
  let source: MonitorSeries['source'];
  // Minute rollups hold the total only; hour and day rollups hold every dimension. A window of
  // minute steps filtered by one dimension is read at hour steps from those (the answer says so in
  // its stepMs) instead of from every raw event of the range.
  if (!rawOnly && dimFilters.length === 1 && grainFor(w.stepMs) === GRAIN_MINUTE) w = coarsen(w, GRAIN_HOUR);
  const minute = grainFor(w.stepMs) === GRAIN_MINUTE;
  if (!rawOnly && (dimFilters.length === 0 || (dimFilters.length === 1 && !minute))) {
    const [dim, value] = dimFilters[0] ?? [DIMS.total, undefined];
    const base = rollupWhere(w, dim, value, r.ids.provider, r.ids.model);
    const b = `(bucket / ${w.stepMs}) * ${w.stepMs}`;
    rows = await db.query<Raw>(
      `SELECT ${b} AS b, provider_id, model_id, tier_id, ${[...SUMS, ...HIST].map((s) => `SUM(${s}) AS ${s}`).join(', ')}
       FROM mon_rollup WHERE ${base.sql} GROUP BY ${b}, provider_id, model_id, tier_id`,
      base.params,
    );
    // Failures by status: the status rollups; for one account or API key the pair rollups; for
    // another dimension, or at minute steps, raw failed events.
    if (!minute && (dim === DIMS.total || dim === DIMS.status)) {
      const s = rollupWhere(w, DIMS.status, value, r.ids.provider, r.ids.model);
      failureRows = await db.query<Raw>(
        `SELECT ${b} AS b, dim_value AS status, SUM(failures) AS failures FROM mon_rollup
         WHERE ${s.sql} AND failures > 0 GROUP BY ${b}, dim_value`,
        s.params,
      );
    } else if (!minute && (dim === DIMS.account || dim === DIMS.apiKey) && value !== undefined) {
      failureRows = await pairFailures(db, r, w, dim, value);
    } else {
      failureRows = await rawFailures(db, r, w);
    }
    source = 'rollup';
  } else {
    const cond = eventConditions(r, w.from, w.to);
    const b = `(e.ts / ${w.stepMs}) * ${w.stepMs}`;
    const lb = latencyBucketSql('e.latency_ms');
    const raw = await db.query<Raw>(
      `SELECT ${b} AS b, e.provider_id AS provider_id, e.model_id AS model_id, e.alias_id AS alias_id,
         e.tier_id AS tier_id, e.status AS status, ${lb} AS lb, COUNT(*) AS requests, SUM(e.failed) AS failures,
         COUNT(e.latency_ms) AS lat_n, ${SUMS.slice(2)
           .map((s) => `SUM(e.${s}) AS ${s}`)
           .join(', ')}
       FROM mon_event e WHERE ${cond.sql}
       GROUP BY ${b}, e.provider_id, e.model_id, e.alias_id, e.tier_id, e.status, ${lb}`,
      cond.params,
    );
    rows = raw.map((x) => {
      const h: Raw = { ...x };
      if (x.lb != null) h[`h${Number(x.lb)}`] = Number(x.lat_n ?? 0);
      return h;
    });
    // Grouped by status too, so failures by status come from the same pass over the events.
    failureRows = raw.filter((x) => Number(x.failures ?? 0) > 0);
    source = 'raw';
  }
  const ids = rows.flatMap((x) => [x.provider_id, x.model_id, x.tier_id, x.alias_id ?? null]);
  if (ids.some((id) => id != null && id !== 0 && dict.nameSync(Number(id)) === null)) await dict.refresh();
  const name = (id: number | null | undefined) => (id == null || id === 0 ? null : dict.nameSync(Number(id)));
  const seriesRows: SeriesRow[] = rows.map((x) => ({
    bucket: Number(x.b),
    provider: name(x.provider_id),
    model: name(x.model_id) ?? name(x.alias_id),
    alias: name(x.alias_id),
    tier: name(x.tier_id),
    requests: Number(x.requests ?? 0),
    failures: Number(x.failures ?? 0),
    inputTokens: Number(x.input_tokens ?? 0),
    outputTokens: Number(x.output_tokens ?? 0),
    reasoningTokens: Number(x.reasoning_tokens ?? 0),
    cachedTokens: Number(x.cached_tokens ?? 0),
    totalTokens: Number(x.total_tokens ?? 0),
    hist: HIST.map((h) => Number(x[h] ?? 0)),
  }));
  const fails = failureRows.map((x) => ({
    bucket: Number(x.b),
    status: Number(x.status),
    failures: Number(x.failures ?? 0),
  }));
  return bucketSeries(w, seriesRows, fails, table, source);
}

/** The window widened to whole steps of `stepMs` (it still covers everything asked for). */
export function coarsen(w: SeriesWindow, stepMs: number): SeriesWindow {
  return { from: Math.floor(w.from / stepMs) * stepMs, to: Math.ceil(w.to / stepMs) * stepMs, stepMs };
}

/** Up to this many rollup buckets are listed (a 30-day range at hour grain is 720; a day at minute grain 1,440). */
const MAX_LISTED_BUCKETS = 2000;

function rollupWhere(
  w: SeriesWindow,
  dim: number,
  value: number | undefined,
  provider: number | undefined,
  model: number | undefined,
): { sql: string; params: SqlValue[] } {
  const grain = grainFor(w.stepMs);
  const c = ['grain = ?', 'dim = ?'];
  const p: SqlValue[] = [grain, dim];
  // The key is (grain, bucket, dim, dim_value, …): a bucket range would read every dimension's rows of
  // each bucket, listing the buckets lets each one be a seek to exactly this dimension (and value).
  const first = Math.ceil(w.from / grain) * grain;
  const count = Math.max(0, Math.ceil((w.to - first) / grain));
  if (count <= MAX_LISTED_BUCKETS) {
    c.push(`bucket IN (${count === 0 ? 'NULL' : new Array(count).fill('?').join(', ')})`);
    for (let i = 0; i < count; i++) p.push(first + i * grain);
  } else {
    c.push('bucket >= ?', 'bucket < ?');
    p.push(w.from, w.to);
  }
  for (const [col, v] of [
    ['dim_value', value],
    ['provider_id', provider],
    ['model_id', model],
  ] as const) {
    if (v === undefined) continue;
    c.push(`${col} = ?`);
    p.push(v);
  }
  return { sql: c.join(' AND '), params: p };
}

/**
 * Failures by status of one account or API key: the pair rollups (that dimension × status, failed
 * events only, src/monitor/pairs.ts) for the buckets before the compaction mark, raw failed events
 * (through the partial index per account / key, migration 230) after it.
 */
async function pairFailures(
  db: Db,
  r: Awaited<ReturnType<typeof resolveFilter>>,
  w: SeriesWindow,
  dim: number,
  value: number,
): Promise<Raw[]> {
  const grain = grainFor(w.stepMs);
  const mark = await pairMark(db);
  const split = Math.max(w.from, Math.min(w.to, Math.floor(mark / grain) * grain));
  const out: Raw[] = [];
  if (split > w.from) {
    const base = rollupWhere({ ...w, to: split }, dim, value, r.ids.provider, r.ids.model);
    const b = `(bucket / ${w.stepMs}) * ${w.stepMs}`;
    out.push(
      ...(await db.query<Raw>(
        `SELECT ${b} AS b, dim2_value AS status, SUM(failures) AS failures FROM mon_rollup_pair
         WHERE ${base.sql} AND dim2 = ? GROUP BY ${b}, dim2_value`,
        [...base.params, PAIR_DIMS.status],
      )),
    );
  }
  if (split < w.to) out.push(...(await rawFailures(db, r, { ...w, from: split })));
  return out;
}

async function rawFailures(db: Db, r: Awaited<ReturnType<typeof resolveFilter>>, w: SeriesWindow): Promise<Raw[]> {
  const cond = eventConditions(r, w.from, w.to);
  const b = `(e.ts / ${w.stepMs}) * ${w.stepMs}`;
  return db.query<Raw>(
    `SELECT ${b} AS b, e.status AS status, COUNT(*) AS failures FROM mon_event e
     WHERE ${cond.sql} AND e.failed = 1 GROUP BY ${b}, e.status`,
    cond.params,
  );
}
