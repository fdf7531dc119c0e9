// Parses one CPA usage record (v7.2 long token names, or the older short ones) into a UsageEvent.
// Errors are values: a malformed record comes back with a reason so ingest can quarantine it.
import { createHmac, hash } from 'node:crypto';
import type { CacheState, TokenCounts, UsageEvent } from './event.ts';
import { failureTypeOf, summarizeFailure } from './sanitize.ts';

// A hand-checked reader for the one known shape: every field is checked (validation is total: any
// bad value is a reason, never an exception) without a schema library's per-field allocations.
// Ingest reads hundreds of thousands of records a second through here.

/** Timestamps outside this range are refused at the boundary (year 2000 to 2200, in epoch ms). */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
export const MAX_TIMESTAMP_MS = Date.UTC(2200, 0, 1);
const MAX_TEXT = 4096;
const MAX_COUNT = 1e12;
const MAX_MS = 1e9;
const DIGITS = /^\d+$/;
const DECIMAL = /^\d+(\.\d+)?$/;

class Bad {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}
const bad = (path: string, message: string): Bad => new Bad(`${path}: ${message}`);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function count(o: Obj, key: string, path: string): number | null | Bad {
  let v = o[key];
  if (v == null) return null;
  if (typeof v === 'string') {
    if (!DIGITS.test(v)) return bad(`${path}.${key}`, 'must be a whole number ≥ 0');
    v = Number(v);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNT)
    return bad(`${path}.${key}`, `must be a whole number from 0 to ${MAX_COUNT}`);
  return v;
}

function millis(o: Obj, key: string): number | null | Bad {
  let v = o[key];
  if (v == null) return null;
  if (typeof v === 'string') {
    if (!DECIMAL.test(v)) return bad(key, 'must be a number of milliseconds');
    v = Number(v);
  }
  if (typeof v !== 'number' || !(v >= 0 && v <= MAX_MS)) return bad(key, `must be a number from 0 to ${MAX_MS}`);
  return v;
}

function text(o: Obj, key: string): string | null | Bad {
  const v = o[key];
  if (v == null) return null;
  if (typeof v !== 'string') return bad(key, 'must be a string');
  if (v.length > MAX_TEXT) return bad(key, `longer than ${MAX_TEXT} characters`);
  return v;
}

/** Epoch ms in the sane range, or why not. Numbers below 1e11 are seconds. */
export function timestampOf(ts: unknown): number | Bad {
  let t: number;
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts) || ts <= 0) return bad('timestamp', 'must be a positive number or a date');
    t = ts < 1e11 ? Math.round(ts * 1000) : Math.round(ts);
  } else if (typeof ts === 'string') {
    if (ts.length === 0 || ts.length > 64) return bad('timestamp', 'must be a date of 1 to 64 characters');
    if (DECIMAL.test(ts)) return timestampOf(Number(ts));
    t = Date.parse(ts);
    if (Number.isNaN(t)) return bad('timestamp', 'not a date');
  } else {
    return bad('timestamp', ts == null ? 'required' : 'must be a date string or epoch number');
  }
  if (t < MIN_TIMESTAMP_MS || t > MAX_TIMESTAMP_MS)
    return bad('timestamp', 'outside the accepted range (years 2000 to 2200)');
  return t;
}

interface Tokens {
  tokens: TokenCounts;
  cacheState: CacheState;
}

const TOKEN_KEYS = [
  ['input_tokens', 'input'],
  ['output_tokens', 'output'],
  ['reasoning_tokens', 'reasoning'],
  ['cached_tokens', 'cached'],
  ['cache_read_tokens', 'cache_read'],
  ['cache_creation_tokens', 'cache_creation'],
  ['total_tokens', 'total'],
] as const;

function readTokens(v: unknown): Tokens | Bad {
  if (v == null)
    return {
      tokens: { input: 0, output: 0, reasoning: 0, cached: 0, cacheCreation: 0, total: 0 },
      cacheState: 'unknown',
    };
  if (!isObj(v)) return bad('tokens', 'must be an object');
  // v7.2 long names first, the older CPA short names as fallback.
  const got: Array<number | null> = [];
  for (const [long, short] of TOKEN_KEYS) {
    const a = count(v, long, 'tokens');
    if (a instanceof Bad) return a;
    const b = count(v, short, 'tokens');
    if (b instanceof Bad) return b;
    got.push(a ?? b);
  }
  const present = v.cache_read_tokens_present;
  if (present != null && typeof present !== 'boolean')
    return bad('tokens.cache_read_tokens_present', 'must be a boolean');
  const [i, o, r, cachedA, cachedB, cc, tot] = got;
  const input = i ?? 0;
  const output = o ?? 0;
  // cached_tokens and cache_read_tokens describe the same tokens: take one, never add them.
  const cached = Math.max(cachedA ?? 0, cachedB ?? 0);
  const cacheCreation = cc ?? 0;
  const total = tot ?? input + output;
  const known = cachedA !== null || cachedB !== null || present === true;
  const cacheState: CacheState = cached > 0 ? 'hit' : cacheCreation > 0 ? 'write' : known ? 'miss' : 'unknown';
  return { tokens: { input, output, reasoning: r ?? 0, cached, cacheCreation, total }, cacheState };
}

export type ParseResult = { ok: true; event: UsageEvent } | { ok: false; reason: string };

export interface ParseOptions {
  /** Secret for the keyed hash of API keys (HMAC-SHA256), so a leaked database cannot confirm a key. */
  keyHashSecret: string;
  /**
   * Leave `dedupeKey` 0n when the record has a request id: the store derives it from the id
   * (event-store.ts), on the collector's storage thread rather than on the thread that parses.
   */
  requestKeyLater?: boolean;
}

/** `sk-…abcd`: the key's scheme prefix and last four characters, nothing more. */
export function maskApiKey(key: string): string {
  const k = key.trim();
  if (k.length < 12) return '****';
  const prefix = /^(sk-proj-|sk-ant-|sk-|rk-|AIza)/.exec(k)?.[1] ?? '';
  return `${prefix}…${k.slice(-4)}`;
}

export function hashApiKey(key: string, secret: string): string {
  return createHmac('sha256', secret).update(key.trim()).digest('hex').slice(0, 32);
}

// A few hundred caller keys send millions of records: hash each key once (bounded, per secret).
const keyCaches = new Map<string, Map<string, { hash: string; label: string }>>();
function apiKeyRef(key: string, secret: string): { hash: string; label: string } {
  let cache = keyCaches.get(secret);
  if (cache === undefined) {
    if (keyCaches.size >= 16) keyCaches.clear();
    cache = new Map();
    keyCaches.set(secret, cache);
  }
  let ref = cache.get(key);
  if (ref === undefined) {
    if (cache.size >= 10_000) cache.clear();
    ref = { hash: hashApiKey(key, secret), label: maskApiKey(key) };
    cache.set(key, ref);
  }
  return ref;
}

// Sorted keys, so the same record re-serialized in another key order hashes the same.
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** Signed 64-bit key from sha256: fits a BIGINT column on both SQLite and PostgreSQL. */
export function dedupeKeyOf(requestId: string | null, record: unknown): bigint {
  const input = requestId ? `r:${requestId}` : `c:${canonical(record)}`;
  return hash('sha256', input, 'buffer').readBigInt64BE(0);
}

/** The dedupe key's high 32 bits, as mon_key_lookup keeps them (SQL: `dedupe_key >> 32`). */
export const keyHigh = (key: bigint): number => Number(key >> 32n);

const nz = (s: string | null | undefined): string | null => {
  if (s == null) return null;
  const t = s.trim();
  return t === '' ? null : t;
};

const TEXT_FIELDS = [
  'provider',
  'executor_type',
  'model',
  'alias',
  'endpoint',
  'auth_index',
  'auth_type',
  'api_key',
  'project',
  'project_id',
  'request_id',
  'reasoning_effort',
  'service_tier',
  'response_service_tier',
] as const;

/** The scalar fields in a fixed order: timestamp, latency, ttft, then TEXT_FIELDS. */
function readFields(o: Obj): { values: Array<string | number | null> } | Bad {
  const ts = timestampOf(o.timestamp);
  if (ts instanceof Bad) return ts;
  const latency = millis(o, 'latency_ms');
  if (latency instanceof Bad) return latency;
  const ttft = millis(o, 'ttft_ms');
  if (ttft instanceof Bad) return ttft;
  const values: Array<string | number | null> = [ts, latency, ttft];
  for (const key of TEXT_FIELDS) {
    // auth_index may be a number in some CPA builds.
    if (key === 'auth_index' && typeof o.auth_index === 'number') {
      values.push(Number.isFinite(o.auth_index) ? String(o.auth_index) : null);
      continue;
    }
    const t = text(o, key);
    if (t instanceof Bad) return t;
    values.push(t);
  }
  return { values };
}

/** Parses a raw record (a JSON string or an already-decoded value). */
export function parseUsageRecord(raw: unknown, options: ParseOptions): ParseResult {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  if (!isObj(value)) return { ok: false, reason: 'not a JSON object' };
  const r = readFields(value);
  if (r instanceof Bad) return { ok: false, reason: r.reason };
  const [
    timestamp,
    latency,
    ttft,
    provider,
    executor,
    model0,
    alias,
    endpoint,
    authIndex,
    authType,
    apiKey0,
    project,
    projectId,
    requestId0,
    effort,
    tier,
    responseTier,
  ] = r.values;
  if (!nz(model0 as string | null) && !nz(alias as string | null) && value.tokens == null && value.failed == null) {
    return { ok: false, reason: 'record has no model, tokens or outcome' };
  }
  const tk = readTokens(value.tokens);
  if (tk instanceof Bad) return { ok: false, reason: tk.reason };
  const fail = value.fail;
  let failStatus: number | null = null;
  let rawBody: string | null = null;
  if (fail != null) {
    if (!isObj(fail)) return { ok: false, reason: 'fail: must be an object' };
    const sc = fail.status_code;
    if (sc != null) {
      const n = typeof sc === 'string' && DIGITS.test(sc) ? Number(sc) : sc;
      if (typeof n !== 'number' || !Number.isInteger(n))
        return { ok: false, reason: 'fail.status_code: must be an integer' };
      failStatus = n;
    }
    const body = fail.body;
    if (body != null) {
      if (typeof body === 'string') rawBody = body;
      else if (typeof body === 'object') rawBody = JSON.stringify(body);
      else return { ok: false, reason: 'fail.body: must be a string, an object or an array' };
    }
  }
  const failedField = value.failed;
  if (failedField != null && typeof failedField !== 'boolean')
    return { ok: false, reason: 'failed: must be a boolean' };
  const failed = failedField ?? (failStatus !== null && failStatus >= 400);
  const failure = failed ? summarizeFailure(failStatus, rawBody) : null;
  const { tokens, cacheState } = tk;
  const apiKey = nz(apiKey0 as string | null);
  const keyRef = apiKey ? apiKeyRef(apiKey, options.keyHashSecret) : null;
  const requestId = nz(requestId0 as string | null);

  return {
    ok: true,
    event: {
      timestamp: timestamp as number,
      latencyMs: latency == null ? null : Math.round(latency as number),
      ttftMs: ttft == null ? null : Math.round(ttft as number),
      provider: nz(provider as string | null),
      executor: nz(executor as string | null),
      // A record without a model is priced and grouped by its alias.
      model: nz(model0 as string | null) ?? nz(alias as string | null),
      alias: nz(alias as string | null),
      endpoint: nz(endpoint as string | null),
      authIndex: nz(authIndex as string | null),
      authType: nz(authType as string | null),
      apiKeyHash: keyRef?.hash ?? null,
      apiKeyLabel: keyRef?.label ?? null,
      project: nz(project as string | null) ?? nz(projectId as string | null),
      status: failed ? (failStatus ?? 0) : 200,
      failed,
      failureType: failure ? failureTypeOf(failure) : null,
      failure,
      failureBody: failed ? rawBody : null,
      tokens,
      cacheState,
      reasoningEffort: nz(effort as string | null),
      serviceTier: nz(responseTier as string | null) ?? nz(tier as string | null),
      requestId,
      dedupeKey: requestId && options.requestKeyLater ? 0n : dedupeKeyOf(requestId, value),
    },
  };
}
