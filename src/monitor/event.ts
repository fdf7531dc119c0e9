// The normalized request event every part of monitoring shares: parser output, ingest input,
// query rows. Raw secrets never live here except `failureBody`, which only reaches the raw table.

export const CACHE_STATES = ['unknown', 'hit', 'miss', 'write'] as const;
export type CacheState = (typeof CACHE_STATES)[number];

export interface TokenCounts {
  input: number;
  output: number;
  reasoning: number;
  /** Cached input tokens (cache read). Whether `input` includes them depends on the provider. */
  cached: number;
  cacheCreation: number;
  total: number;
}

/** What the operator may see of a failure: never the raw body. */
export interface FailureSummary {
  statusCode: number | null;
  errorType: string | null;
  errorCode: string | null;
  /** First meaningful line of the message, secrets masked, at most 300 characters. */
  message: string | null;
}

export interface UsageEvent {
  /** Epoch milliseconds of the request. */
  timestamp: number;
  latencyMs: number | null;
  ttftMs: number | null;
  provider: string | null;
  executor: string | null;
  model: string | null;
  alias: string | null;
  endpoint: string | null;
  /** CPA's account id (auth_index). */
  authIndex: string | null;
  authType: string | null;
  /** Keyed hash (HMAC) of the caller's API key, and a masked label such as `sk-…abcd`. */
  apiKeyHash: string | null;
  apiKeyLabel: string | null;
  project: string | null;
  /** HTTP status; 200 for successful requests, 0 when a failure carried none. */
  status: number;
  failed: boolean;
  /** errorCode, errorType or `http_<status>`: the failure-type filter value. */
  failureType: string | null;
  failure: FailureSummary | null;
  /** Raw failure body: local raw table only, never served or exported. */
  failureBody: string | null;
  tokens: TokenCounts;
  cacheState: CacheState;
  reasoningEffort: string | null;
  serviceTier: string | null;
  requestId: string | null;
  /** 64-bit dedupe key: from request_id, or from the record's content when it has none. */
  dedupeKey: bigint;
}
