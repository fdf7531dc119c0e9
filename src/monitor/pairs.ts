// Pair rollups (table mon_rollup_pair, migration 220): the same sums as mon_rollup, keyed by TWO
// dimensions, for the view × filter combinations one dimension cannot answer: a group view filtered
// by another dimension (account × API key, day grain only: at hour grain almost every event would be
// its own row), and the cache-state, "failures only", failure-type, status and min-latency filters
// per total/account/API key. They are built by the compactor (src/monitor/compact.ts) for closed
// hours and days, not on the ingest path: per batch they would be almost one upsert per event. Whole
// compacted buckets come from here; everything after the mark (and the ragged edges) from raw rows.
import type { Db } from '../store/db.ts';
import { CACHE_STATES } from './event.ts';
import { BUCKET_COUNT, bucketSumSql } from './latency.ts';

export const GRAIN_HOUR = 3_600_000;
export const GRAIN_DAY = 86_400_000;

/** dim codes: 0 total, 1 account, 2 API key (as in mon_rollup), plus the two filter-only dimensions. */
export const PAIR_DIMS = {
  total: 0,
  account: 1,
  apiKey: 2,
  status: 3,
  cache: 10,
  latency: 12,
  failureType: 13,
} as const;

/** Second dimensions whose rows exist for failed events only. */
export const FAILED_ONLY: ReadonlySet<number> = new Set([3, 13]);
/** Second dimensions with small values (< 31), packed into numeric map keys by the collector. */
export const SMALL_DIM2: ReadonlySet<number> = new Set([10, 12]);

/**
 * Latency classes for "min latency" filters: a threshold equal to one of these bounds (or 0) is
 * answered from pair rollups (class ≥ the bound's); any other threshold reads raw events. Class k
 * holds bounds[k-1] ≤ ms < bounds[k]; -1 is "no latency reported".
 */
export const LATENCY_CLASS_BOUNDS = [
  100, 200, 300, 500, 1000, 1500, 2000, 3000, 5000, 8000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000,
];

/**
 * Events at least this slow are in a partial index (migration 240): a min-latency filter at or above
 * it reads those rows only where no rollup answers. A class bound, so it is also a pair-rollup class.
 */
export const SLOW_LATENCY_MS = 10_000;

export function latencyClass(ms: number): number {
  let k = 0;
  while (k < LATENCY_CLASS_BOUNDS.length && ms >= LATENCY_CLASS_BOUNDS[k]) k++;
  return k;
}

/** The first class at or above `minMs`, or null when `minMs` is not a class bound (nor 0). */
export function classAtLeast(minMs: number): number | null {
  if (minMs === 0) return 0;
  const i = LATENCY_CLASS_BOUNDS.indexOf(minMs);
  return i < 0 ? null : i + 1;
}

export interface PairDef {
  dim: number;
  dim2: number;
  /** Grains stored for this pair. */
  grains: readonly number[];
}

const both = [GRAIN_HOUR, GRAIN_DAY] as const;

/**
 * Every pair stored. Failure-type and status rows exist for failed events only (every failed event
 * has one failure-type row, type 0 when it has none), so "failures only" is the sum of the
 * failure-type rows and needs no rows of its own; a status filter of a successful status (200) is
 * left to raw events. Kept lean: the pairs cost about 35 bytes per event at 10M.
 */
export const PAIRS: readonly PairDef[] = [
  { dim: PAIR_DIMS.account, dim2: PAIR_DIMS.apiKey, grains: [GRAIN_DAY] },
  ...[PAIR_DIMS.total, PAIR_DIMS.account, PAIR_DIMS.apiKey].flatMap((dim) => [
    { dim, dim2: PAIR_DIMS.cache, grains: both },
    { dim, dim2: PAIR_DIMS.failureType, grains: both },
    // Total × status is mon_rollup's status dimension already.
    ...(dim === PAIR_DIMS.total ? [] : [{ dim, dim2: PAIR_DIMS.status, grains: both }]),
    // Latency classes split rows up to 17 ways: hour rows for the total only, day rows per account/key.
    { dim, dim2: PAIR_DIMS.latency, grains: dim === PAIR_DIMS.total ? both : [GRAIN_DAY] },
  ]),
];

export const PAIR_KEY = [
  'grain',
  'bucket',
  'dim',
  'dim_value',
  'dim2',
  'dim2_value',
  'provider_id',
  'model_id',
  'tier_id',
];

/** mon_event column (alias e) holding the value of a pair dimension. */
export function pairDimSql(dim: number): string {
  switch (dim) {
    case PAIR_DIMS.total:
      return '0';
    case PAIR_DIMS.account:
      return 'COALESCE(e.account_id, 0)';
    case PAIR_DIMS.apiKey:
      return 'COALESCE(e.api_key_id, 0)';
    case PAIR_DIMS.cache:
      return 'e.cache_state';
    case PAIR_DIMS.status:
      return 'e.status';
    case PAIR_DIMS.failureType:
      return 'COALESCE(e.failure_type_id, 0)';
    case PAIR_DIMS.latency:
      return `(CASE WHEN e.latency_ms IS NULL THEN -1 ${LATENCY_CLASS_BOUNDS.map((b, i) => `WHEN e.latency_ms < ${b} THEN ${i}`).join(' ')} ELSE ${LATENCY_CLASS_BOUNDS.length} END)`;
    default:
      throw new RangeError(`unknown pair dimension ${dim}`);
  }
}

/** Each rollup sum as SQL over raw events (`e`): the compactor and the bench's bulk fill build rows from it. */
export const RAW_SUMS_SQL: Record<string, string> = {
  requests: 'COUNT(*)',
  failures: 'SUM(e.failed)',
  lat_n: 'COUNT(e.latency_ms)',
  lat_sum: 'COALESCE(SUM(e.latency_ms), 0)',
  ttft_n: 'COUNT(e.ttft_ms)',
  ttft_sum: 'COALESCE(SUM(e.ttft_ms), 0)',
  input_tokens: 'SUM(e.input_tokens)',
  output_tokens: 'SUM(e.output_tokens)',
  reasoning_tokens: 'SUM(e.reasoning_tokens)',
  cached_tokens: 'SUM(e.cached_tokens)',
  cache_creation_tokens: 'SUM(e.cache_creation_tokens)',
  total_tokens: 'SUM(e.total_tokens)',
  cache_hits: `SUM(CASE WHEN e.cache_state = ${CACHE_STATES.indexOf('hit')} THEN 1 ELSE 0 END)`,
  ...Object.fromEntries(Array.from({ length: BUCKET_COUNT }, (_, i) => [`h${i}`, bucketSumSql(i, 'e.latency_ms')])),
};

/**
 * INSERT … SELECT that folds events into one pair at one grain: those with id ≥ the one parameter,
 * or (`byTime`) those with from ≤ ts < to (two parameters), as the compactor does per closed bucket.
 */
export function pairRollupSql(sums: readonly string[], grain: number, pair: PairDef, byTime = false): string {
  const bucket = `(e.ts - (e.ts % ${grain}))`;
  const v1 = pairDimSql(pair.dim);
  const v2 = pairDimSql(pair.dim2);
  const onlyFailed = FAILED_ONLY.has(pair.dim2) ? ' AND e.failed = 1' : '';
  const group = [bucket, ...(v1 === '0' ? [] : [v1]), v2];
  const tail = ['COALESCE(e.provider_id, 0)', 'COALESCE(e.model_id, 0)', 'COALESCE(e.tier_id, 0)'];
  return `INSERT INTO mon_rollup_pair (${[...PAIR_KEY, ...sums].join(',')})
SELECT ${grain}, ${bucket}, ${pair.dim}, ${v1}, ${pair.dim2}, ${v2}, ${tail.join(', ')},
${sums.map((s) => RAW_SUMS_SQL[s]).join(', ')}
FROM mon_event e WHERE ${byTime ? 'e.ts >= ? AND e.ts < ?' : 'e.id >= ?'}${onlyFailed}
GROUP BY ${[...group, ...tail].join(', ')}
ON CONFLICT (${PAIR_KEY.join(',')}) DO UPDATE SET ${sums.map((s) => `${s} = mon_rollup_pair.${s} + excluded.${s}`).join(', ')}`;
}

/** The compaction mark (epoch ms, on an hour boundary), or 0 when nothing is compacted yet. */
export async function pairMark(db: Db): Promise<number> {
  const row = await db.get<{ mark: number }>('SELECT mark FROM mon_pair_mark WHERE id = 1');
  return Number(row?.mark ?? 0);
}
