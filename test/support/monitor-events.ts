// Realistic CPA usage records and UsageEvents, generated fast from a seeded PRNG (tests and bench).
import { createHash } from 'node:crypto';
import type { UsageEvent } from '../../src/monitor/event.ts';
import { hashApiKey, maskApiKey } from '../../src/monitor/record.ts';

export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ['gpt-5-codex', 'gpt-5', 'gpt-5-mini', 'gpt-5.1-codex', 'o3', 'o4-mini', 'gpt-4.1', 'sim-model'];
const FAILS: Array<[number, string]> = [
  [
    429,
    '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":3600}}',
  ],
  [401, '{"error":{"message":"Your session has ended. Please sign in again.","code":"refresh_token_invalidated"}}'],
  [502, '<html><head><title>502 Bad Gateway</title></head></html>'],
  [500, '{"error":{"type":"server_error","message":"internal error for user alice@example.com"}}'],
];

export interface GenOptions {
  seed?: number;
  start: number;
  /** Milliseconds between consecutive events (average). */
  stepMs: number;
  accounts?: number;
  apiKeys?: number;
  failureRate?: number;
  /** Token names: v7.2 long ones or the older short ones. */
  style?: 'long' | 'short';
}

/** Raw CPA v7.2 records (objects), numbered from `offset` so request ids are unique. */
export function* generateRecords(n: number, o: GenOptions, offset = 0): Generator<Record<string, unknown>> {
  const rnd = prng((o.seed ?? 1) + offset);
  const accounts = o.accounts ?? 50;
  const keys = o.apiKeys ?? 20;
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    const failed = rnd() < (o.failureRate ?? 0.05);
    const fail = FAILS[Math.floor(rnd() * FAILS.length)];
    const input = 500 + Math.floor(rnd() * 20000);
    const cached = rnd() < 0.6 ? Math.floor(input * rnd()) : 0;
    const output = failed ? 0 : 50 + Math.floor(rnd() * 3000);
    const reasoning = Math.floor(output * rnd() * 0.5);
    const tokens =
      o.style === 'short'
        ? { input, output, reasoning, cached, total: input + output }
        : {
            input_tokens: input,
            output_tokens: output,
            reasoning_tokens: reasoning,
            cached_tokens: cached,
            cache_read_tokens: cached,
            cache_read_tokens_present: true,
            cache_creation_tokens: 0,
            total_tokens: input + output,
          };
    yield {
      timestamp: new Date(o.start + Math.floor(k * o.stepMs)).toISOString(),
      latency_ms: Math.floor(200 + rnd() * rnd() * 20000),
      ttft_ms: Math.floor(50 + rnd() * 2000),
      source: `user${k % accounts}@example.com`,
      auth_index: createHash('sha256')
        .update(`codex:${k % accounts}`)
        .digest('hex')
        .slice(0, 16),
      client_ip: '127.0.0.1',
      tokens,
      failed,
      fail: failed ? { status_code: fail[0], body: fail[1] } : { status_code: 0, body: '' },
      provider: 'codex',
      executor_type: 'codex',
      model: MODELS[Math.floor(rnd() * rnd() * MODELS.length)],
      endpoint: rnd() < 0.8 ? '/v1/responses' : '/v1/chat/completions',
      auth_type: 'oauth',
      api_key: `sk-client-${String(Math.floor(rnd() * keys)).padStart(4, '0')}-abcdefghijkl`,
      request_id: `req-${o.seed ?? 1}-${k}`,
      reasoning_effort: ['low', 'medium', 'high'][k % 3],
      service_tier: rnd() < 0.1 ? 'priority' : 'default',
    };
  }
}

/**
 * The same records as UsageEvents without going through JSON (the bench fills 10M rows this way;
 * the parser has its own rate measured separately).
 */
export function* generateEvents(n: number, o: GenOptions, offset = 0, secret = 'bench'): Generator<UsageEvent> {
  const keyCache = new Map<string, { hash: string; label: string }>();
  for (const r of generateRecords(n, o, offset)) {
    const t = r.tokens as Record<string, number>;
    const fail = r.fail as { status_code: number; body: string };
    const failed = r.failed as boolean;
    const apiKey = r.api_key as string;
    let key = keyCache.get(apiKey);
    if (!key) {
      key = { hash: hashApiKey(apiKey, secret), label: maskApiKey(apiKey) };
      keyCache.set(apiKey, key);
    }
    const requestId = r.request_id as string;
    const type = failed ? (fail.status_code === 429 ? 'usage_limit_reached' : `http_${fail.status_code}`) : null;
    yield {
      timestamp: Date.parse(r.timestamp as string),
      latencyMs: r.latency_ms as number,
      ttftMs: r.ttft_ms as number,
      provider: 'codex',
      executor: 'codex',
      model: r.model as string,
      alias: null,
      endpoint: r.endpoint as string,
      authIndex: r.auth_index as string,
      authType: 'oauth',
      apiKeyHash: key.hash,
      apiKeyLabel: key.label,
      project: null,
      status: failed ? fail.status_code : 200,
      failed,
      failureType: type,
      failure: failed
        ? {
            statusCode: fail.status_code,
            errorType: type,
            errorCode: null,
            message: 'The usage limit has been reached',
          }
        : null,
      failureBody: failed ? fail.body : null,
      tokens: {
        input: t.input_tokens ?? t.input,
        output: t.output_tokens ?? t.output,
        reasoning: t.reasoning_tokens ?? t.reasoning,
        cached: t.cached_tokens ?? t.cached,
        cacheCreation: 0,
        total: t.total_tokens ?? t.total,
      },
      cacheState: (t.cached_tokens ?? t.cached) > 0 ? 'hit' : 'miss',
      reasoningEffort: r.reasoning_effort as string,
      serviceTier: r.service_tier as string,
      requestId,
      dedupeKey: createHash('sha256').update(`r:${requestId}`).digest().readBigInt64BE(0),
    };
  }
}

/**
 * Pushes `n` CPA usage records onto a Redis list (`usage`), 10,000 per RPUSH: the queue the collector
 * benchmarks drain. The same records (same seed and start) every time, so runs compare.
 */
export async function pushUsageRecords(
  push: { rpush(key: string, ...values: string[]): Promise<unknown> },
  n: number,
  key = 'usage',
): Promise<void> {
  for (let i = 0; i < n; i += 10_000) {
    const batch: string[] = [];
    for (const r of generateRecords(Math.min(10_000, n - i), { start: Date.UTC(2026, 10, 1), stepMs: 3, seed: 5 }, i))
      batch.push(JSON.stringify(r));
    await push.rpush(key, ...batch);
  }
}
