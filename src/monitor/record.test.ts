import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskApiKey, parseUsageRecord } from './record.ts';

const opts = { keyHashSecret: 'test-secret' };
const v72 = {
  timestamp: '2026-11-23T10:00:00.123Z',
  latency_ms: 812,
  ttft_ms: 120,
  source: 'alice@example.com',
  auth_index: 'a1b2c3d4e5f60718',
  client_ip: '127.0.0.1',
  tokens: {
    input_tokens: 1200,
    output_tokens: 300,
    reasoning_tokens: 100,
    cached_tokens: 1000,
    cache_read_tokens: 1000,
    cache_read_tokens_present: true,
    cache_creation_tokens: 0,
    total_tokens: 1500,
  },
  failed: false,
  fail: { status_code: 0, body: '' },
  provider: 'codex',
  executor_type: 'codex',
  model: 'gpt-5-codex',
  alias: 'gpt-5-codex',
  endpoint: '/v1/responses',
  auth_type: 'oauth',
  api_key: 'sk-proj-client-key-0123456789abcd',
  request_id: 'req_123',
  reasoning_effort: 'high',
  service_tier: 'priority',
};

test('v7.2 record with long token names', () => {
  const r = parseUsageRecord(JSON.stringify(v72), opts);
  assert.ok(r.ok);
  const e = r.event;
  assert.equal(e.timestamp, Date.parse('2026-11-23T10:00:00.123Z'));
  assert.deepEqual(e.tokens, { input: 1200, output: 300, reasoning: 100, cached: 1000, cacheCreation: 0, total: 1500 });
  assert.equal(e.cacheState, 'hit');
  assert.equal(e.status, 200);
  assert.equal(e.failed, false);
  assert.equal(e.failure, null);
  assert.equal(e.apiKeyLabel, 'sk-proj-…abcd');
  assert.match(e.apiKeyHash ?? '', /^[0-9a-f]{32}$/);
  assert.ok(!JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('client-key-0123'));
  assert.equal(e.authIndex, 'a1b2c3d4e5f60718');
  assert.equal(e.serviceTier, 'priority');
  assert.equal(e.requestId, 'req_123');
});

test('older short token names', () => {
  const r = parseUsageRecord(
    { timestamp: 1_763_892_000, model: 'gpt-5', tokens: { input: 10, output: 5, cached: 0, total: 15 }, failed: false },
    opts,
  );
  assert.ok(r.ok);
  assert.equal(r.event.timestamp, 1_763_892_000_000);
  assert.deepEqual(r.event.tokens, { input: 10, output: 5, reasoning: 0, cached: 0, cacheCreation: 0, total: 15 });
  assert.equal(r.event.cacheState, 'miss');
});

test('cached_tokens and cache_read_tokens are the same tokens, never added', () => {
  const r = parseUsageRecord({ ...v72, tokens: { input_tokens: 100, cached_tokens: 40, cache_read_tokens: 40 } }, opts);
  assert.ok(r.ok);
  assert.equal(r.event.tokens.cached, 40);
});

test('failure: sanitized summary, raw body kept apart, failure type', () => {
  const body = '{"error":{"type":"usage_limit_reached","message":"limit for alice@example.com"}}';
  const r = parseUsageRecord({ ...v72, failed: true, fail: { status_code: 429, body } }, opts);
  assert.ok(r.ok);
  assert.equal(r.event.status, 429);
  assert.equal(r.event.failureType, 'usage_limit_reached');
  assert.equal(r.event.failure?.message, 'limit for [email]');
  assert.equal(r.event.failureBody, body);
});

test('dedupe key: from request_id, else a content hash independent of key order', () => {
  const a = parseUsageRecord(v72, opts);
  const b = parseUsageRecord({ ...v72, latency_ms: 999 }, opts);
  assert.ok(a.ok && b.ok);
  assert.equal(a.event.dedupeKey, b.event.dedupeKey);
  const { request_id: _drop, ...noId } = v72;
  const c = parseUsageRecord(noId, opts);
  const reordered = Object.fromEntries(Object.entries(noId).reverse());
  const d = parseUsageRecord(JSON.stringify(reordered), opts);
  const e = parseUsageRecord({ ...noId, latency_ms: 1 }, opts);
  assert.ok(c.ok && d.ok && e.ok);
  assert.equal(c.event.dedupeKey, d.event.dedupeKey);
  assert.notEqual(c.event.dedupeKey, e.event.dedupeKey);
  assert.equal(typeof c.event.dedupeKey, 'bigint');
});

test('malformed records are reasons, never exceptions', () => {
  const bad: unknown[] = [
    'not json',
    '[1,2]',
    'null',
    42,
    {},
    { timestamp: 'yesterday', model: 'x' },
    { timestamp: '2026-01-01T00:00:00Z', model: 'x', tokens: { input_tokens: -5 } },
    { timestamp: '2026-01-01T00:00:00Z', model: 'x', tokens: { input_tokens: 'lots' } },
    { timestamp: '2026-01-01T00:00:00Z', model: { nested: true } },
    { timestamp: '2026-01-01T00:00:00Z' },
    { timestamp: '2026-01-01T00:00:00Z', model: 'x', latency_ms: Number.NaN },
    '{"timestamp":"2026-01-01T00:00:00Z","model":"x","tokens":',
  ];
  for (const b of bad) {
    const r = parseUsageRecord(b, opts);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(b)}`);
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});

test('maskApiKey keeps only the scheme and last four', () => {
  assert.equal(maskApiKey('sk-abcdefghijklmnop1234'), 'sk-…1234');
  assert.equal(maskApiKey('test-client-key'), '…-key');
  assert.equal(maskApiKey('short'), '****');
});
