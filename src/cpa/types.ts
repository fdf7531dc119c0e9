// What the CPA client hands back. Errors are values: every call returns CpaResult.
import type { CpaGeneration } from './routes.ts';

export interface CpaServerConfig {
  /** Operator's name for the server, e.g. "main". */
  name: string;
  /** Base URL such as http://127.0.0.1:8317 (a trailing /v0/management is accepted and stripped). */
  url: string;
  managementKey: string;
}

export const CPA_ERROR_KINDS = [
  'unauthorized',
  'breaker_open',
  'forbidden',
  'not_found',
  'bad_request',
  'no_management_api',
  'http_error',
  'network',
  'timeout',
  'malformed',
  'invalid_input',
] as const;
export type CpaErrorKind = (typeof CPA_ERROR_KINDS)[number];

export interface CpaError {
  kind: CpaErrorKind;
  /** The configured server name (never the key). */
  server: string;
  status: number | null;
  /** One line that says what went wrong and how to fix it. Never contains the management key. */
  message: string;
}

export type CpaResult<T> = { ok: true; value: T } | { ok: false; error: CpaError };

export interface CpaAuthFile {
  name: string;
  type: string | null;
  provider: string | null;
  authIndex: string | null;
  email: string | null;
  account: string | null;
  label: string | null;
  accountType: string | null;
  disabled: boolean;
  unavailable: boolean;
  runtimeOnly: boolean;
  /** CPA's own state of the credential: active, disabled, error, … */
  status: string | null;
  statusMessage: string | null;
  source: string | null;
  path: string | null;
  modtime: string | null;
  lastRefresh: string | null;
  nextRetryAfter: string | null;
}

export interface CpaDeleteResult {
  deleted: string[];
  failed: Array<{ name: string; error: string }>;
  /** True when CPA answered 207: some names were deleted and some were not. */
  partial: boolean;
}

export interface CpaApiCallRequest {
  authIndex: string;
  method: string;
  url: string;
  header?: Record<string, string>;
  data?: string;
  /** Proxy for this call (CPA's api-call ignores the environment proxy; else the file's or config's proxy-url). */
  proxyUrl?: string;
  /**
   * The caller giving up (a probe's own deadline): the call to CPA is cut too, so it neither holds one of
   * the server's slots nor keeps a CLI process alive for the 60 s CPA gives a silent upstream.
   */
  signal?: AbortSignal;
}

export interface CpaApiCallResponse {
  statusCode: number;
  /** Header names as CPA returns them; values are arrays (a header may repeat). */
  header: Record<string, string[]>;
  body: string;
}

/**
 * One popped usage record, as CPA sent it. Not validated here: the pop is destructive, so one odd
 * record must not make the client drop the whole batch. The monitor room parses and sets aside bad ones.
 */
export type UsageQueueRecord = unknown;

/** Whether CPA publishes usage records, and how long it keeps them for a collector. */
export interface CpaUsageSettings {
  usageStatisticsEnabled: boolean;
  retentionSeconds: number;
  /** Fields the server did not state, so CPA's defaults apply (enabled=false, retention=60 s). */
  defaulted: Array<'usage-statistics-enabled' | 'redis-usage-queue-retention-seconds'>;
}

export interface CpaBreakerState {
  open: boolean;
  reason: string | null;
}

export type { CpaGeneration };
