// Latency histogram shared by rollups and raw queries: fixed bucket bounds, so p50/p95 over any
// time range are a merge of counts. The estimate interpolates inside the bucket that holds the rank.

/** Upper bounds (ms, exclusive) of buckets 0..14; bucket 15 holds everything slower. */
export const LATENCY_BOUNDS = [50, 100, 200, 350, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000, 15000, 30000, 60000];
export const BUCKET_COUNT = LATENCY_BOUNDS.length + 1;

export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS.length; i++) if (ms < LATENCY_BOUNDS[i]) return i;
  return LATENCY_BOUNDS.length;
}

/** SQL expression that counts events of `bucket` (for queries that must read raw events). */
export function bucketSumSql(bucket: number, column = 'latency_ms'): string {
  const lo = bucket === 0 ? null : LATENCY_BOUNDS[bucket - 1];
  const hi = bucket < LATENCY_BOUNDS.length ? LATENCY_BOUNDS[bucket] : null;
  const conds = [`${column} IS NOT NULL`];
  if (lo !== null) conds.push(`${column} >= ${lo}`);
  if (hi !== null) conds.push(`${column} < ${hi}`);
  return `SUM(CASE WHEN ${conds.join(' AND ')} THEN 1 ELSE 0 END)`;
}

/** SQL expression giving the bucket index of a latency column (NULL when the latency is unknown). */
export function latencyBucketSql(column = 'latency_ms'): string {
  const whens = LATENCY_BOUNDS.map((b, i) => `WHEN ${column} < ${b} THEN ${i}`).join(' ');
  return `(CASE WHEN ${column} IS NULL THEN NULL ${whens} ELSE ${LATENCY_BOUNDS.length} END)`;
}

/** Estimated quantile (0..1) in ms from bucket counts; null with no samples. */
export function percentileFromHistogram(counts: readonly number[], q: number): number | null {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const rank = q * n;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS[i - 1];
      // The open-ended last bucket has no upper bound: report its lower bound.
      if (i >= LATENCY_BOUNDS.length) return lo;
      const hi = LATENCY_BOUNDS[i];
      return Math.round(lo + ((rank - seen) / c) * (hi - lo));
    }
    seen += c;
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
}
