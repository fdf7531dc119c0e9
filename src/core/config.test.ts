import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CHATGPT_URL, resolveConfig, resolveStoreLocation } from './config.ts';

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

  it('reads the concurrency and store location from the environment, flags winning', () => {
    assert.equal(resolveConfig({}, { CODEX_FLEET_CONCURRENCY: '8' }).concurrency, 8);
    assert.equal(resolveConfig({ concurrency: '3' }, { CODEX_FLEET_CONCURRENCY: '8' }).concurrency, 3);
    const env = { CODEX_FLEET_DATA_DIR: '/srv/fleet', CODEX_FLEET_DATABASE_URL: 'postgres://u:p@h/db' };
    assert.deepEqual(resolveStoreLocation({}, env), { dataDir: '/srv/fleet', databaseUrl: 'postgres://u:p@h/db' });
    assert.deepEqual(resolveStoreLocation({ dataDir: '/flag', databaseUrl: 'sqlite:/x.db' }, env), {
      dataDir: '/flag',
      databaseUrl: 'sqlite:/x.db',
    });
    assert.deepEqual(resolveStoreLocation({}, { CODEX_FLEET_DATABASE_URL: '' }), {
      dataDir: resolve('data'),
      databaseUrl: null,
    });
    assert.equal(resolveConfig({}, env).dataDir, '/srv/fleet');
  });

  it('is the only module that reads the configuration environment', async () => {
    const names =
      /(?:env|process\.env)(?:\.|\[')(CODEX_FLEET_(?:CONCURRENCY|DATA_DIR|DATABASE_URL|CHATGPT_URL|AUTH_URL|ACCOUNT_DIR)|CODEX_AUTH_FETCH_TIMEOUT_MS)\b/;
    const src = resolve(import.meta.dirname, '..');
    const offenders: string[] = [];
    for (const entry of await readdir(src, { recursive: true })) {
      const file = join(src, entry);
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file === join(src, 'core', 'config.ts')) continue;
      if (names.test(await readFile(file, 'utf8'))) offenders.push(relative(src, file));
    }
    assert.deepEqual(offenders, [], 'resolve these in core/config.ts and pass the values down');
  });

  it('keeps its defaults equal to the upstream modules it does not import', async () => {
    const http = await import('../upstream/http.ts');
    const runner = await import('../upstream/probe-runner.ts');
    const config = await import('./config.ts');
    assert.equal(config.DEFAULT_TIMEOUT_MS, http.DEFAULT_TIMEOUT_MS);
    assert.equal(config.DEFAULT_CONCURRENCY, runner.DEFAULT_CONCURRENCY);
    assert.equal(config.MAX_CONCURRENCY, runner.MAX_CONCURRENCY);
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
