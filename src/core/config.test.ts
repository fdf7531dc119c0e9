import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CHATGPT_URL, resolveConfig } from './config.ts';

describe('resolveConfig', () => {
  it('uses defaults with an empty environment', () => {
    const c = resolveConfig({}, {});
    assert.equal(c.chatgptUrl, DEFAULT_CHATGPT_URL);
    assert.equal(c.concurrency, 5);
    assert.equal(c.timeoutMs, 15_000);
    assert.equal(c.retries, 3);
    assert.equal(c.retryDelayMs, 2000);
    assert.equal(c.databaseUrl, null);
  });

  it('prefers flags over environment over defaults', () => {
    const env = { CODEX_FLEET_CHATGPT_URL: 'http://127.0.0.1:9/backend-api/', CODEX_AUTH_FETCH_TIMEOUT_MS: '2500' };
    assert.equal(resolveConfig({}, env).chatgptUrl, 'http://127.0.0.1:9/backend-api');
    assert.equal(resolveConfig({}, env).timeoutMs, 2500);
    assert.equal(resolveConfig({ chatgptUrl: 'http://127.0.0.1:7/x' }, env).chatgptUrl, 'http://127.0.0.1:7/x');
    assert.equal(resolveConfig({ retryDelay: '0.5' }, env).retryDelayMs, 500);
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['concurrency above the cap', { concurrency: '50' }, /at most 20/],
    ['concurrency not a number', { concurrency: 'many' }, /must be a number/],
    ['url without scheme', { chatgptUrl: 'chatgpt.com' }, /http\(s\) URL/],
    ['negative retry delay', { retryDelay: '-1' }, />= 0/],
    ['database url of the wrong kind', { databaseUrl: 'mysql://x' }, /postgres/],
  ];
  for (const [name, flags, message] of bad) {
    it(`rejects ${name} with a clear message`, () => {
      assert.throws(
        () => resolveConfig(flags, {}),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});
