// The sums every rollup row keeps (mon_rollup and mon_rollup_pair), in column order. A module of its own so
// the schema (migration 220) names the columns without loading the ingest path: every command opens the
// store, and a cached report should not load the record reader, the dictionary and the masker.
import { BUCKET_COUNT } from './latency.ts';

/** The token counts an event carries (mon_event) and every rollup row sums, under the same column names. */
export const TOKEN_COLUMNS = [
  'input_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cached_tokens',
  'cache_creation_tokens',
  'total_tokens',
];

export const ROLLUP_SUMS = [
  'requests',
  'failures',
  'lat_n',
  'lat_sum',
  'ttft_n',
  'ttft_sum',
  ...TOKEN_COLUMNS,
  'cache_hits',
  ...Array.from({ length: BUCKET_COUNT }, (_, i) => `h${i}`),
];
