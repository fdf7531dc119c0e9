// Parses one CPA usage record (v7.2 long token names, or the older short ones) into a UsageEvent.
// Errors are values: a malformed record comes back with a reason so ingest can quarantine it.
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import type { CacheState, TokenCounts, UsageEvent } from './event.ts';
import { failureTypeOf, summarizeFailure } from './sanitize.ts';

const count = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().min(0).max(1e12));
const ms = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .pipe(z.number().min(0).max(1e9));
const text = z.string().max(4096);
const opt = <T extends z.ZodType>(s: T) => s.nullish();

const tokensSchema = z.object({
  input_tokens: opt(count),
  output_tokens: opt(count),
  reasoning_tokens: opt(count),
  cached_tokens: opt(count),
  cache_read_tokens: opt(count),
  cache_read_tokens_present: opt(z.boolean()),
  cache_creation_tokens: opt(count),
  total_tokens: opt(count),
  // Older CPA builds.
  input: opt(count),
  output: opt(count),
  reasoning: opt(count),
  cached: opt(count),
  cache_read: opt(count),
  cache_creation: opt(count),
  total: opt(count),
});

const recordSchema = z.object({
  timestamp: z.union([z.string().min(1).max(64), z.number().positive()]),
  latency_ms: opt(ms),
  ttft_ms: opt(ms),
  provider: opt(text),
  executor_type: opt(text),
  model: opt(text),
  alias: opt(text),
  endpoint: opt(text),
  auth_index: opt(z.union([text, z.number()]).transform(String)),
  auth_type: opt(text),
  api_key: opt(text),
  project: opt(text),
  project_id: opt(text),
  request_id: opt(text),
  reasoning_effort: opt(text),
  service_tier: opt(text),
  response_service_tier: opt(text),
  failed: opt(z.boolean()),
  fail: opt(
    z.object({
      status_code: opt(z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])),
      body: opt(z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])),
    }),
  ),
  tokens: opt(tokensSchema),
});

export type ParseResult = { ok: true; event: UsageEvent } | { ok: false; reason: string };

export interface ParseOptions {
  /** Secret for the keyed hash of API keys (HMAC-SHA256), so a leaked database cannot confirm a key. */
  keyHashSecret: string;
}

function toMillis(ts: string | number): number | null {
  if (typeof ts === 'number') return ts < 1e11 ? Math.round(ts * 1000) : Math.round(ts);
  if (/^\d+(\.\d+)?$/.test(ts)) return toMillis(Number(ts));
  const t = Date.parse(ts);
  return Number.isNaN(t) ? null : t;
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
const keyCache = new Map<string, { hash: string; label: string }>();
function apiKeyRef(key: string, secret: string): { hash: string; label: string } {
  const k = `${secret}\u0000${key}`;
  let ref = keyCache.get(k);
  if (ref === undefined) {
    if (keyCache.size >= 10_000) keyCache.clear();
    ref = { hash: hashApiKey(key, secret), label: maskApiKey(key) };
    keyCache.set(k, ref);
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
  return createHash('sha256').update(input).digest().readBigInt64BE(0);
}

const nz = (s: string | null | undefined): string | null => {
  if (s == null) return null;
  const t = s.trim();
  return t === '' ? null : t;
};

function readTokens(t: z.infer<typeof tokensSchema> | null | undefined): {
  tokens: TokenCounts;
  cacheState: CacheState;
} {
  const input = t?.input_tokens ?? t?.input ?? 0;
  const output = t?.output_tokens ?? t?.output ?? 0;
  const reasoning = t?.reasoning_tokens ?? t?.reasoning ?? 0;
  // cached_tokens and cache_read_tokens describe the same tokens: take one, never add them.
  const cachedA = t?.cached_tokens ?? t?.cached ?? null;
  const cachedB = t?.cache_read_tokens ?? t?.cache_read ?? null;
  const cached = Math.max(cachedA ?? 0, cachedB ?? 0);
  const cacheCreation = t?.cache_creation_tokens ?? t?.cache_creation ?? 0;
  const total = t?.total_tokens ?? t?.total ?? input + output;
  const known = cachedA !== null || cachedB !== null || t?.cache_read_tokens_present === true;
  const cacheState: CacheState = cached > 0 ? 'hit' : cacheCreation > 0 ? 'write' : known ? 'miss' : 'unknown';
  return { tokens: { input, output, reasoning, cached, cacheCreation, total }, cacheState };
}

function describe(error: z.ZodError): string {
  const i = error.issues[0];
  return `${i.path.join('.') || 'record'}: ${i.message}`;
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
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const r = recordSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: describe(r.error) };
  const d = r.data;
  const timestamp = toMillis(d.timestamp);
  if (timestamp === null) return { ok: false, reason: 'timestamp: not a date' };
  if (!nz(d.model) && !nz(d.alias) && !d.tokens && d.failed == null) {
    return { ok: false, reason: 'record has no model, tokens or outcome' };
  }

  const failStatus = d.fail?.status_code ?? null;
  const failed = d.failed ?? (failStatus !== null && failStatus >= 400);
  const rawBody =
    d.fail?.body == null ? null : typeof d.fail.body === 'string' ? d.fail.body : JSON.stringify(d.fail.body);
  const failure = failed ? summarizeFailure(failStatus, rawBody) : null;
  const { tokens, cacheState } = readTokens(d.tokens);
  const apiKey = nz(d.api_key);
  const keyRef = apiKey ? apiKeyRef(apiKey, options.keyHashSecret) : null;
  const requestId = nz(d.request_id);

  return {
    ok: true,
    event: {
      timestamp,
      latencyMs: d.latency_ms == null ? null : Math.round(d.latency_ms),
      ttftMs: d.ttft_ms == null ? null : Math.round(d.ttft_ms),
      provider: nz(d.provider),
      executor: nz(d.executor_type),
      // A record without a model is priced and grouped by its alias.
      model: nz(d.model) ?? nz(d.alias),
      alias: nz(d.alias),
      endpoint: nz(d.endpoint),
      authIndex: nz(d.auth_index),
      authType: nz(d.auth_type),
      apiKeyHash: keyRef?.hash ?? null,
      apiKeyLabel: keyRef?.label ?? null,
      project: nz(d.project) ?? nz(d.project_id),
      status: failed ? (failStatus ?? 0) : 200,
      failed,
      failureType: failure ? failureTypeOf(failure) : null,
      failure,
      failureBody: failed ? rawBody : null,
      tokens,
      cacheState,
      reasoningEffort: nz(d.reasoning_effort),
      serviceTier: nz(d.response_service_tier) ?? nz(d.service_tier),
      requestId,
      dedupeKey: dedupeKeyOf(requestId, value),
    },
  };
}
