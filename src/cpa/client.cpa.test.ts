// The CPA client against the REAL CLIProxyAPI v7.2.140 (../shared/cpa). Only v0 exists in that build;
// v8 is tested against the simulator's emulation in src/sim/cpa.test.ts.
// Ban safety: exactly one wrong key is sent, by the breaker test, and nothing after its 401.

import assert from 'node:assert/strict';
import { readFile, realpath } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CPA_CLIENT_KEY,
  type StartedCpa,
  tryStartCpa,
  waitForAuthFiles,
  writeCodexAuthFile,
} from '../../test/support/cpa.ts';
import { waitFor } from '../../test/support/wait.ts';
import { startSimulator } from '../sim/index.ts';
import { mountOpenAiCompat } from '../sim/openai-compat.ts';
import { authIndexFor } from './auth-index.ts';
import { CpaClient } from './client.ts';
import { checkCpaServer } from './doctor.ts';

// Started at module level so that `skip` is known when the tests are declared. The simulator carries
// the OpenAI-compatible upstream (mounted through its extraRoutes option) that CPA forwards /v1 to.
const failNext = { count: 0 };
const sim = await startSimulator({ accounts: [], extraRoutes: (app) => mountOpenAiCompat(app, { failNext }) });
const started = await tryStartCpa({ upstreamBaseUrl: `${sim.baseUrl}/v1` });
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
const client = new CpaClient({ name: 'real', url: cpa?.url ?? 'http://127.0.0.1:1', managementKey: cpa?.key ?? 'x' });

function need(): StartedCpa {
  assert.ok(cpa, 'CPA is running');
  return cpa;
}

after(async () => {
  await cpa?.stop();
  await sim.close();
});

describe('CpaClient against the real CPA', () => {
  test('detects the v0 generation and lists auth files with the real auth_index', { skip }, async () => {
    const { authDir } = need();
    const a = await writeCodexAuthFile(authDir, { email: 'alice@example.com', extra: { note_kept: 'x' } });
    await waitForAuthFiles(need(), [a.name]);
    const gen = await client.detectGeneration();
    assert.deepEqual(gen, { ok: true, value: 'v0' });
    assert.equal(client.generation, 'v0');
    const list = await client.listAuthFiles();
    assert.ok(list.ok, JSON.stringify(list));
    const file = list.value.find((f) => f.name === a.name);
    assert.ok(file);
    assert.equal(file.email, 'alice@example.com');
    assert.equal(file.type, 'codex');
    assert.equal(file.disabled, false);
    assert.equal(file.status, 'active');
    // auth_index computed locally equals the one the real server reports.
    assert.equal(file.authIndex, authIndexFor('codex', join(await realpath(authDir), a.name)));
    assert.equal(file.authIndex, authIndexFor('CODEX', file.path ?? ''));
    const filtered = await client.listAuthFiles({ authIndex: file.authIndex ?? '' });
    assert.ok(filtered.ok);
    assert.deepEqual(
      filtered.value.map((f) => f.name),
      [a.name],
    );
  });

  test('disable and enable: CPA reports it and writes "disabled" into the file, keeping other fields', {
    skip,
  }, async () => {
    const { authDir } = need();
    const b = await writeCodexAuthFile(authDir, { email: 'bob@example.com', extra: { custom_field: 42 } });
    await waitForAuthFiles(need(), [b.name]);
    const off = await client.setDisabled(b.name, true);
    assert.deepEqual(off, { ok: true, value: { disabled: true } });
    const onDisk = JSON.parse(await readFile(b.path, 'utf8'));
    assert.equal(onDisk.disabled, true);
    assert.equal(onDisk.custom_field, 42);
    const listed = await client.listAuthFiles({ name: b.name });
    assert.ok(listed.ok);
    assert.equal(listed.value[0].disabled, true);
    assert.equal(listed.value[0].status, 'disabled');
    // Idempotent: disabling twice is fine.
    assert.ok((await client.setDisabled(b.name, true)).ok);
    const on = await client.setDisabled(b.name, false);
    assert.deepEqual(on, { ok: true, value: { disabled: false } });
    assert.equal(JSON.parse(await readFile(b.path, 'utf8')).disabled, false);
  });

  test('set status of an unknown file is a not_found error value', { skip }, async () => {
    const res = await client.setDisabled('no-such-file.json', true);
    assert.equal(res.ok, false);
    assert.ok(!res.ok);
    assert.equal(res.error.kind, 'not_found');
    assert.equal(res.error.status, 404);
    assert.match(res.error.message, /not found/);
  });

  test('download returns the raw file', { skip }, async () => {
    const { authDir } = need();
    const c = await writeCodexAuthFile(authDir, { email: 'carol@example.com', accessToken: 'at-carol-123' });
    await waitForAuthFiles(need(), [c.name]);
    const res = await client.downloadAuthFile(c.name);
    assert.ok(res.ok);
    const parsed = JSON.parse(res.value);
    assert.equal(parsed.email, 'carol@example.com');
    assert.equal(parsed.access_token, 'at-carol-123');
    const missing = await client.downloadAuthFile('nope.json');
    assert.ok(!missing.ok);
    assert.equal(missing.error.kind, 'not_found');
  });

  test('delete: all present → deleted; some missing → 207 partial with reasons; all missing → failed', {
    skip,
  }, async () => {
    const { authDir } = need();
    const d1 = await writeCodexAuthFile(authDir, { email: 'd1@example.com' });
    const d2 = await writeCodexAuthFile(authDir, { email: 'd2@example.com' });
    const d3 = await writeCodexAuthFile(authDir, { email: 'd3@example.com' });
    await waitForAuthFiles(need(), [d1.name, d2.name, d3.name]);

    const full = await client.deleteAuthFiles([d1.name]);
    assert.ok(full.ok, JSON.stringify(full));
    assert.deepEqual(full.value, { deleted: [d1.name], failed: [], partial: false });

    const partial = await client.deleteAuthFiles([d2.name, 'missing.json', d3.name]);
    assert.ok(partial.ok, JSON.stringify(partial));
    assert.equal(partial.value.partial, true);
    assert.deepEqual(partial.value.deleted.sort(), [d2.name, d3.name].sort());
    assert.deepEqual(
      partial.value.failed.map((f) => f.name),
      ['missing.json'],
    );
    assert.match(partial.value.failed[0].error, /not found/);

    const none = await client.deleteAuthFiles(['missing-1.json']);
    assert.ok(none.ok, JSON.stringify(none));
    assert.deepEqual(none.value.deleted, []);
    assert.deepEqual(
      none.value.failed.map((f) => f.name),
      ['missing-1.json'],
    );
    await waitForAuthFiles(need(), [d1.name, d2.name, d3.name], { present: false });
  });

  test('api-call reaches a loopback server with $TOKEN$ replaced by the account token; header values are arrays', {
    skip,
  }, async () => {
    const { authDir } = need();
    const e = await writeCodexAuthFile(authDir, {
      email: 'erin@example.com',
      accessToken: 'at-erin-secret-token',
      accountId: 'acct-erin',
    });
    await waitForAuthFiles(need(), [e.name]);
    const seen: IncomingHttpHeaders[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Multi', ['one', 'two']);
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const list = await client.listAuthFiles({ name: e.name });
      assert.ok(list.ok);
      const res = await client.apiCall({
        authIndex: list.value[0].authIndex ?? '',
        method: 'get',
        url: `http://127.0.0.1:${port}/backend-api/wham/usage`,
        header: { Authorization: 'Bearer $TOKEN$', 'ChatGPT-Account-Id': 'acct-erin' },
      });
      assert.ok(res.ok, JSON.stringify(res));
      assert.equal(res.value.statusCode, 200);
      assert.deepEqual(JSON.parse(res.value.body), { path: '/backend-api/wham/usage' });
      assert.deepEqual(res.value.header['X-Multi'], ['one', 'two']);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].authorization, 'Bearer at-erin-secret-token');
      assert.equal(seen[0]['chatgpt-account-id'], 'acct-erin');

      // proxy_url in the request: CPA sends the call through that proxy (here the same loopback server,
      // which sees the absolute-form request line of a forward proxy and answers it itself).
      const viaProxy = await client.apiCall({
        authIndex: list.value[0].authIndex ?? '',
        method: 'GET',
        url: 'http://chatgpt.invalid/backend-api/wham/usage',
        header: { Authorization: 'Bearer $TOKEN$' },
        proxyUrl: `http://127.0.0.1:${port}`,
      });
      assert.ok(viaProxy.ok, JSON.stringify(viaProxy));
      assert.deepEqual(JSON.parse(viaProxy.value.body), { path: 'http://chatgpt.invalid/backend-api/wham/usage' });
      assert.equal(seen.at(-1)?.authorization, 'Bearer at-erin-secret-token');

      // An unreachable upstream is an error value from CPA (502), not a throw.
      await new Promise<void>((ok) => server.close(() => ok()));
      const down = await client.apiCall({
        authIndex: list.value[0].authIndex ?? '',
        method: 'GET',
        url: `http://127.0.0.1:${port}/backend-api/wham/usage`,
      });
      assert.ok(!down.ok);
      assert.equal(down.error.status, 502);
    } finally {
      server.close();
    }
  });

  test('usage queue over HTTP: a request through CPA becomes a record that pops once', { skip }, async () => {
    const { url } = need();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${CPA_CLIENT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hello usage queue' }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    const records = await waitFor(
      async () => {
        const popped = await client.popUsageQueue(100);
        assert.ok(popped.ok, JSON.stringify(popped));
        const got = popped.value as Array<Record<string, unknown>>;
        return got.length > 0 ? got : { ok: false, seen: 'an empty usage queue' };
      },
      { what: 'CPA to queue the usage record of the request', intervalMs: 100 },
    );
    assert.equal(records.length, 1);
    const record = records[0];
    assert.equal(record.model, 'sim-model');
    assert.equal(record.failed, false);
    assert.equal(typeof record.request_id, 'string');
    const tokens = record.tokens as Record<string, unknown>;
    assert.equal(tokens.output_tokens, 5);
    // Destructive pop: the record is gone now.
    const again = await client.popUsageQueue(100);
    assert.deepEqual(again, { ok: true, value: [] });
    const bad = await client.popUsageQueue(0);
    assert.ok(!bad.ok);
    assert.equal(bad.error.kind, 'invalid_input');
  });

  test('a failed upstream request becomes a failed usage record with its status', { skip }, async () => {
    const { url } = need();
    failNext.count = 100; // more than CPA's own retries
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${CPA_CLIENT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'this fails' }] }),
    });
    await res.text();
    failNext.count = 0;
    assert.ok(res.status >= 400, `CPA passes the failure on (got ${res.status})`);
    const records = await waitFor(
      async () => {
        const popped = await client.popUsageQueue(100);
        assert.ok(popped.ok);
        const got = popped.value as Array<Record<string, unknown>>;
        return got.length > 0 ? got : { ok: false, seen: 'an empty usage queue' };
      },
      { what: 'CPA to queue the usage record of the failed request', intervalMs: 100 },
    );
    assert.ok(records.length >= 1);
    const failed = records.filter((r) => r.failed === true);
    assert.ok(failed.length >= 1, JSON.stringify(records.map((r) => r.failed)));
    const fail = failed[0].fail as { status_code?: number };
    assert.equal(fail.status_code, 500);
  });

  test('usage settings and the doctor checks read the real config (publishing on, retention 3600 s)', {
    skip,
  }, async () => {
    const settings = await client.usageSettings();
    assert.deepEqual(settings, {
      ok: true,
      value: { usageStatisticsEnabled: true, retentionSeconds: 3600, defaulted: [] },
    });
    const report = await checkCpaServer(client, { pollIntervalSeconds: 5 });
    assert.deepEqual(
      report.checks.map((c) => [c.id, c.status]),
      [
        ['cpa.reachable', 'ok'],
        ['cpa.usage_publishing', 'ok'],
        ['cpa.usage_retention', 'ok'],
        ['cpa.auth_metadata', 'ok'],
      ],
    );
    assert.ok(!JSON.stringify(report).includes(CPA_CLIENT_KEY), 'client API keys in the config are never read out');
  });

  test('a wrong key: one 401, then the breaker stops every call without touching the network', { skip }, async () => {
    const { url } = need();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const wrongKey = 'definitely-wrong-key-0123456789';
    const bad = new CpaClient({ name: 'bad', url, managementKey: wrongKey }, { fetch: counting, generation: 'v0' });
    // Concurrent calls: only the first may carry the unverified key.
    const results = await Promise.all([bad.listAuthFiles(), bad.setDisabled('x.json', true), bad.popUsageQueue(1)]);
    assert.equal(calls, 1);
    const [first, ...rest] = results;
    assert.ok(!first.ok);
    assert.equal(first.error.kind, 'unauthorized');
    assert.equal(first.error.status, 401);
    for (const r of rest) {
      assert.ok(!r.ok);
      assert.ok(['unauthorized', 'breaker_open'].includes(r.error.kind));
    }
    const later = await bad.downloadAuthFile('x.json');
    assert.ok(!later.ok);
    assert.equal(later.error.kind, 'breaker_open');
    assert.equal(calls, 1);
    assert.equal(bad.breaker().open, true);
    for (const r of [...results, later]) {
      assert.ok(!r.ok);
      assert.ok(!r.error.message.includes(wrongKey), 'the key never appears in an error');
      assert.ok(!JSON.stringify(r).includes(wrongKey));
    }
    // Reconfigured with the right key, the same client works again.
    bad.reconfigure({ name: 'bad', url, managementKey: need().key });
    const fixed = await bad.listAuthFiles();
    assert.ok(fixed.ok);
    assert.equal(calls, 3); // detection + list
  });
});
