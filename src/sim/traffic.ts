// Proxy traffic for the demo: usage records in CPA v7.2's shape (UPSTREAM.md §6) as CPA would publish
// them for requests through the simulated accounts: realistic models, a daily rhythm, failures (429
// usage limits, 401 dead sessions, 5xx), latency, tokens and a handful of client API keys. Used both
// to seed a week of history and to feed the live usage queue the demo's collector drains.
import { nodeCrypto } from '../runtime/crypto.ts';
import { createRng, type Rng } from './rng.ts';

/** Models weighted roughly as Codex traffic is: mostly the codex models. */
const MODELS: Array<[string, number]> = [
  ['gpt-5-codex', 40],
  ['gpt-5.1-codex', 20],
  ['gpt-5', 15],
  ['gpt-5-mini', 12],
  ['o4-mini', 8],
  ['gpt-4.1', 5],
];
const API_KEYS = [
  'sk-team-alpha-7f3a9c21d4e8',
  'sk-team-beta-0b6e44a1c9f2',
  'sk-ci-runner-93d1e7f0aa12',
  'sk-ops-bot-5c2f8b0e71d3',
];
const FAILURES: Array<[number, number, string]> = [
  [
    429,
    45,
    '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":3600}}',
  ],
  [401, 15, '{"error":{"message":"Your session has ended. Please sign in again.","code":"refresh_token_invalidated"}}'],
  [500, 20, '{"error":{"type":"server_error","message":"internal error"}}'],
  [502, 10, '<html><head><title>502 Bad Gateway</title></head></html>'],
  [503, 10, '{"error":{"type":"server_overloaded","message":"the server is overloaded"}}'],
];

export interface TrafficAccount {
  /** The CPA auth file path the record's auth_index is derived from, or any stable name. */
  name: string;
  email: string;
}

export interface TrafficOptions {
  accounts: readonly TrafficAccount[];
  seed?: number;
  /** Share of requests that fail (default 0.06). */
  failureRate?: number;
}

function weighted<T>(rng: Rng, items: ReadonlyArray<[T, number, ...unknown[]]>): [T, number, ...unknown[]] {
  const total = items.reduce((s, i) => s + i[1], 0);
  let r = rng() * total;
  for (const item of items) {
    r -= item[1];
    if (r <= 0) return item;
  }
  return items[items.length - 1];
}

/** Requests per minute at a time of day (UTC): quiet nights, a working-day hump. */
export function requestsPerMinute(t: number, base = 6): number {
  const hour = new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60;
  const day = Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
  return base * (0.15 + 1.6 * day);
}

/** Generates usage records; `next(t)` makes one request's record at time t. */
export function createTraffic(o: TrafficOptions) {
  if (o.accounts.length === 0) throw new Error('traffic needs at least one account');
  const rng = createRng(o.seed ?? 7);
  const failureRate = o.failureRate ?? 0.06;
  let n = 0;
  const authIndex = (a: TrafficAccount) =>
    nodeCrypto().createHash('sha256').update(`codex:${a.name}`).digest('hex').slice(0, 16);
  return {
    next(t: number): Record<string, unknown> {
      n++;
      const account = o.accounts[Math.floor(rng() * rng() * o.accounts.length)];
      const model = weighted(rng, MODELS)[0];
      const failed = rng() < failureRate;
      const fail = failed ? weighted(rng, FAILURES) : null;
      const input = 800 + Math.floor(rng() * 24_000);
      const cached = rng() < 0.65 ? Math.floor(input * (0.3 + rng() * 0.6)) : 0;
      const output = failed ? 0 : 80 + Math.floor(rng() * 2_500);
      const reasoning = failed ? 0 : Math.floor(output * rng() * 0.6);
      // Latency: a long tail, slower for big outputs; failures answer fast.
      const latency = failed ? 80 + Math.floor(rng() * 600) : Math.floor(400 + output * 2 + rng() * rng() * 15_000);
      return {
        timestamp: new Date(t).toISOString(),
        latency_ms: latency,
        ttft_ms: failed ? null : Math.floor(150 + rng() * 1_500),
        source: account.email,
        auth_index: authIndex(account),
        client_ip: '127.0.0.1',
        tokens: {
          input_tokens: input,
          output_tokens: output,
          reasoning_tokens: reasoning,
          cached_tokens: cached,
          cache_read_tokens: cached,
          cache_read_tokens_present: true,
          cache_creation_tokens: 0,
          total_tokens: input + output,
        },
        failed,
        fail: fail ? { status_code: fail[0], body: fail[2] } : { status_code: 0, body: '' },
        provider: 'codex',
        executor_type: 'codex',
        model,
        endpoint: rng() < 0.85 ? '/v1/responses' : '/v1/chat/completions',
        auth_type: 'oauth',
        api_key: API_KEYS[Math.floor(rng() * rng() * API_KEYS.length)],
        request_id: `demo-${o.seed ?? 7}-${t}-${n}`,
        reasoning_effort: ['low', 'medium', 'high'][Math.floor(rng() * 3)],
        service_tier: rng() < 0.08 ? 'priority' : 'default',
      };
    },
    /** Records for every request in [from, to) at the daily rhythm (deterministic for a seed). */
    *between(from: number, to: number, base = 6): Generator<Record<string, unknown>> {
      let t = from;
      while (t < to) {
        const gap = 60_000 / Math.max(0.05, requestsPerMinute(t, base));
        t += Math.max(200, Math.floor(gap * (0.2 + rng() * 1.6)));
        if (t < to) yield this.next(t);
      }
    },
  };
}

export type Traffic = ReturnType<typeof createTraffic>;

/**
 * Plays live traffic: every `everyMs`, the records for the time since the last tick go to `push`
 * (the CPA emulation's usage queue). Returns a stop function.
 */
export function playTraffic(
  traffic: Traffic,
  push: (records: Array<Record<string, unknown>>) => void,
  o: { clock?: () => number; everyMs?: number; base?: number } = {},
): () => void {
  const clock = o.clock ?? Date.now;
  let last = clock();
  const timer = setInterval(() => {
    const now = clock();
    const records = [...traffic.between(last, now, o.base ?? 6)];
    last = now;
    if (records.length) push(records);
  }, o.everyMs ?? 2_000);
  timer.unref();
  return () => clearInterval(timer);
}
