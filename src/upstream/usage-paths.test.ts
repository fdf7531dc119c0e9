import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  candidateUsagePaths,
  normalizeBaseUrl,
  rememberUsagePath,
  shouldTryNextPath,
  type UsagePathMemory,
  usageUrl,
} from './usage-paths.ts';

describe('usage paths', () => {
  const cases: [string, string[]][] = [
    ['https://chatgpt.com/backend-api', ['/wham/usage', '/codex/usage']],
    ['https://chatgpt.com/backend-api/', ['/wham/usage', '/codex/usage']],
    ['http://127.0.0.1:9/proxy/backend-api', ['/wham/usage', '/codex/usage']],
    ['http://127.0.0.1:9', ['/api/codex/usage']],
    ['https://my-proxy.example/v1', ['/api/codex/usage']],
  ];
  for (const [base, expected] of cases)
    test(`${base} → ${expected.join(', ')}`, () => assert.deepEqual(candidateUsagePaths(base), expected));

  test('the remembered path goes first, per normalized base URL, and the memory serializes', () => {
    const memory: UsagePathMemory = {};
    rememberUsagePath(memory, 'https://chatgpt.com/backend-api/', '/codex/usage');
    assert.deepEqual(candidateUsagePaths('https://chatgpt.com/backend-api', memory), ['/codex/usage', '/wham/usage']);
    assert.deepEqual(candidateUsagePaths('https://other/backend-api', memory), ['/wham/usage', '/codex/usage']);
    const restored = JSON.parse(JSON.stringify(memory)) as UsagePathMemory;
    assert.deepEqual(candidateUsagePaths('https://chatgpt.com/backend-api', restored)[0], '/codex/usage');
  });

  test('urls join without double slashes', () => {
    assert.equal(normalizeBaseUrl('https://x/backend-api//'), 'https://x/backend-api');
    assert.equal(usageUrl('https://x/backend-api/', '/wham/usage'), 'https://x/backend-api/wham/usage');
  });

  describe('fallback on 404 and non-Cloudflare 403 only', () => {
    const rows: [number | null, Record<string, string>, string | null, boolean][] = [
      [404, {}, '{"detail":"Not Found"}', true],
      [403, { 'content-type': 'application/json' }, '{"detail":"Forbidden"}', true],
      [403, {}, '', true],
      [403, { 'content-type': 'text/html' }, '<html><title>Just a moment...</title></html>', false],
      [403, { 'cf-mitigated': 'challenge' }, '', false],
      [200, {}, '{}', false],
      [401, {}, '', false],
      [429, {}, '', false],
      [500, {}, '', false],
      [null, {}, null, false],
    ];
    for (const [status, headers, body, expected] of rows) {
      test(`${status} ${JSON.stringify(headers)} → ${expected}`, () =>
        assert.equal(shouldTryNextPath(status, headers, body), expected));
    }
  });
});
