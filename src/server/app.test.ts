import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { ApiClient, startTestServer, type TestServer } from '../../test/support/fleet-server.ts';
import { waitFor } from '../../test/support/wait.ts';

type J = Record<string, any>;

describe('HTTP API', () => {
  let s: TestServer;
  let api: ApiClient;
  before(async () => {
    s = await startTestServer({ accounts: 14, initialRefresh: false });
    api = await new ApiClient(s.url).start();
  });
  after(() => s.close());

  it('joins a refresh in progress, and one slow account never blocks reading the page data', async () => {
    const slow = await s.idOf('acct-03');
    const other = await s.idOf('acct-04');
    const release = s.holdProbe('acct-03');
    const calls = s.refreshAllCalls;
    s.sim.resetStats();
    // codex-quota's GET /refresh starts a refresh and waits for it before redirecting home.
    const alias = api.request('GET', '/refresh');
    await waitFor(
      async () => {
        const pool = (await api.json<J>('GET', '/api/pool')).body;
        return { ok: pool.refreshing === true, seen: pool };
      },
      { what: 'the pool to show a refresh in progress' },
    );
    const first = await api.json<J>('POST', '/api/refresh');
    assert.equal(first.status, 202);
    assert.equal(first.body.status, 'joined');
    const second = await api.json<J>('POST', '/api/refresh');
    assert.equal(second.body.status, 'joined');
    // While acc-0003 hangs, everything the page reads still answers, and shows it as in flight.
    const accounts = (await api.json<J>('GET', '/api/accounts')).body.accounts;
    assert.equal(accounts.find((a: J) => a.id === slow).refreshing, true);
    assert.equal(accounts.find((a: J) => a.id === other).refreshing, true, 'a full sweep marks every account');
    assert.equal((await api.json<J>('GET', '/api/pool')).body.refreshing, true);
    release();
    const res = await alias;
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/');
    assert.equal(s.refreshAllCalls, calls + 1, 'three requests, one refresh');
    const usageCalls = Object.entries(s.sim.stats().requests)
      .filter(([route]) => /usage/.test(route))
      .reduce((sum, [, byStatus]) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    assert.ok(usageCalls >= 14, `one sweep asked the simulator about all 14 accounts (${usageCalls} calls)`);
    const started = await api.json<J>('POST', '/api/refresh?wait=true');
    assert.equal(started.body.status, 'started');
    assert.equal(started.body.outcome.probed, 0, 'a second sweep within the cache TTL answers from the cache');
  });

  it('lists accounts with quota, pool counts, report, forecast and the codex-quota results alias', async () => {
    const { body } = await api.json<J>('GET', '/api/accounts');
    assert.equal(body.accounts.length, 14);
    assert.equal(body.accounts[0].windows[0].kind, '5h');
    const pool = (await api.json<J>('GET', '/api/pool')).body.pool;
    assert.equal(pool.total, 14);
    assert.equal(
      pool.counts.healthy +
        pool.counts.warning +
        pool.counts['rate-limited'] +
        pool.counts.error +
        pool.counts.disabled,
      14,
    );
    assert.ok(pool.nextCapacityAt, 'a rate-limited account says when capacity returns');
    assert.equal((await api.json<J>('GET', '/api/report')).status, 200);
    assert.ok((await api.json<J>('GET', '/api/forecast')).body.pool);
    assert.equal((await api.json<J>('GET', '/api/results')).body.results.length, 14);
    assert.equal((await api.json<J>('GET', '/api/accounts/nope')).status, 404);
  });

  it('enables and disables an account in one call and audits it', async () => {
    const id = await s.idOf('acct-02');
    const off = await api.json<J>('POST', `/api/accounts/${id}/disable`);
    assert.equal(off.body.account.disabled, true);
    const on = await api.json<J>('POST', `/api/accounts/${id}/enable`);
    assert.equal(on.body.account.disabled, false);
    const audit = (await api.json<J>('GET', '/api/audit?limit=2')).body.entries;
    assert.deepEqual(
      audit.map((e: J) => e.action),
      ['Enable', 'Disable'],
    );
    assert.equal(audit[0].actor, 'person:local');
  });

  it('runs an inspection, queues its actions, and approving one applies it and lands in the audit', async () => {
    const run = (await api.json<J>('POST', '/api/inspections')).body.run;
    assert.equal(run.status, 'done');
    const runs = (await api.json<J>('GET', '/api/inspections?limit=5')).body.runs;
    assert.equal(runs[0].id, run.id);
    const full = (await api.json<J>('GET', `/api/inspections/${run.id}`)).body.run;
    assert.equal(full.results.length, 14);
    assert.ok(full.log.length > 1);
    const pending = (await api.json<J>('GET', '/api/actions?status=pending')).body.actions;
    const disable = pending.find((a: J) => a.action === 'Disable');
    assert.ok(disable, 'a rate-limited account gets a disable suggestion');
    const approved = await api.json<J>('POST', `/api/actions/${disable.id}/approve`);
    assert.equal(approved.body.action.status, 'done');
    const again = await api.json<J>('POST', `/api/actions/${disable.id}/approve`);
    assert.equal(again.status, 409);
    assert.match(again.body.error, /is done, not pending/);
    const account = (await api.json<J>('GET', `/api/accounts/${disable.accountId}`)).body.account;
    assert.equal(account.disabled, true);
    const audit = (await api.json<J>('GET', '/api/audit')).body.entries;
    assert.equal(audit[0].action, 'Disable');
    assert.equal(audit[0].actor, 'person:local');
    assert.equal(audit[0].accountName, disable.accountName);
    assert.equal((await api.json<J>('GET', '/api/actions?status=bogus')).status, 400);
  });

  it('validates the schedule and settings with clear messages', async () => {
    const bad = await api.json<J>('PUT', '/api/schedule', { mode: 'daily', dailyTimes: ['25:00'], timeZone: 'UTC' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /HH:MM/);
    const tz = await api.json<J>('PUT', '/api/schedule', {
      mode: 'daily',
      dailyTimes: ['08:00'],
      timeZone: 'Mars/Base',
    });
    assert.match(tz.body.error, /time zone/);
    const none = await api.json<J>('PUT', '/api/schedule', { mode: 'interval', timeZone: 'UTC' });
    assert.match(none.body.error, /intervalMinutes/);
    const ok = await api.json<J>('PUT', '/api/schedule', {
      mode: 'daily',
      dailyTimes: ['08:00', '20:30'],
      timeZone: 'Europe/Berlin',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.schedule.dailyTimes, ['08:00', '20:30']);
    assert.ok(ok.body.schedule.nextRunAt > Date.now() - 1000);

    const notJson = await api.request('PUT', '/api/settings', '{', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as J).error, /not valid JSON/);
    const wrong = await api.json<J>('PUT', '/api/settings', { thresholds: { '5h': { disableAtUsedPercent: 140 } } });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error, /thresholds\.5h\.disableAtUsedPercent: disableAtUsedPercent is 1-100/);
    const extra = await api.json<J>('PUT', '/api/settings', { webhookUrl: 'http://x' });
    assert.equal(extra.status, 400);
    const hook = await api.json<J>('PUT', '/api/settings', {
      notifications: { webhooks: [{ url: 'ftp://x', format: 'json' }] },
    });
    assert.match(hook.body.error, /http\(s\)/);
    const before = (await api.json<J>('GET', '/api/settings')).body.settings;
    const saved = await api.json<J>('PUT', '/api/settings', {
      thresholds: { weekly: { disableAtUsedPercent: 90 } },
      policy: { autoDisable: true },
      notifications: { webhooks: [{ url: 'http://127.0.0.1:9/hook', format: 'slack' }] },
    });
    assert.equal(saved.status, 200);
    assert.equal(saved.body.settings.thresholds.weekly.disableAtUsedPercent, 90);
    assert.deepEqual(saved.body.settings.thresholds['5h'], before.thresholds['5h'], 'other windows kept');
    assert.equal(saved.body.settings.thresholds.weekly.enabled, before.thresholds.weekly.enabled, 'other fields kept');
    assert.equal(saved.body.settings.policy.autoDisable, true);
    assert.equal(saved.body.settings.policy.autoDelete, false);
  });

  it('keeps a CPA management key unless it is replaced on purpose, and never returns it', async () => {
    const servers = (await api.json<J>('GET', '/api/cpa-servers')).body.servers;
    assert.equal(servers[0].name, 'cpa-main');
    assert.equal(servers[0].managementKey, 'mgmt…wxyz');
    const kept = await api.json<J>('PUT', '/api/cpa-servers/cpa-main', { url: 'http://127.0.0.1:8318' });
    assert.equal(kept.status, 200);
    assert.equal(kept.body.server.managementKey, 'mgmt…wxyz');
    assert.equal(kept.body.server.url, 'http://127.0.0.1:8318');
    const replaced = await api.json<J>('PUT', '/api/cpa-servers/cpa-main', {
      url: 'http://127.0.0.1:8318',
      managementKey: 'brand-new-management-key-0000',
    });
    assert.equal(replaced.body.server.managementKey, 'bran…0000');
    assert.doesNotMatch(JSON.stringify(replaced.body), /brand-new-management-key/);
    const noKey = await api.json<J>('PUT', '/api/cpa-servers/second', { url: 'http://127.0.0.1:8319' });
    assert.equal(noKey.status, 400);
    assert.match(noKey.body.error, /managementKey/);
    const badUrl = await api.json<J>('PUT', '/api/cpa-servers/second', {
      url: 'not a url',
      managementKey: 'k-123456789',
    });
    assert.equal(badUrl.status, 400);
    assert.equal((await api.json<J>('DELETE', '/api/cpa-servers/nope')).status, 404);
  });

  it('manages auth files: create, read masked, update keeping or replacing tokens, delete', async () => {
    const created = await api.json<J>('POST', '/api/auth-files', {
      name: 'new-one',
      format: 'cpa',
      email: 'new@example.test',
      accessToken: 'new-access-token-1234567890',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.file.accessToken, 'new-…7890');
    const dup = await api.json<J>('POST', '/api/auth-files', { name: 'new-one' });
    assert.equal(dup.status, 409);
    const kept = await api.json<J>('PUT', '/api/auth-files/new-one', { email: 'changed@example.test' });
    assert.equal(kept.body.file.email, 'changed@example.test');
    assert.equal(s.storedToken('new-one', 'accessToken'), 'new-access-token-1234567890');
    await api.json<J>('PUT', '/api/auth-files/new-one', { accessToken: 'replaced-access-token-0987654321' });
    assert.equal(s.storedToken('new-one', 'accessToken'), 'replaced-access-token-0987654321');
    for (const name of ['../etc/passwd', '.hidden', 'a/b']) {
      const r = await api.json<J>('POST', '/api/auth-files', { name });
      assert.equal(r.status, 400, name);
      assert.match(r.body.error, /name/);
    }
    assert.equal((await api.json<J>('DELETE', '/api/auth-files/new-one')).status, 200);
    assert.equal((await api.json<J>('GET', '/api/auth-files/new-one')).status, 404);
  });

  it("serves codex-quota's /auth form posts: blanks keep tokens, then redirect to the list", async () => {
    const form = (fields: Record<string, string>) =>
      api.request('POST', '/auth/save', new URLSearchParams({ ...fields, _csrf: api.csrf }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-csrf-token': '',
      });
    const saved = await form({
      name: 'quota-style',
      format: 'codex-quota',
      access_token: 'form-access-token-abcdefgh',
      account_id: 'acc-x',
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get('location'), '/auth');
    await form({ name: 'quota-style', access_token: '', account_id: 'acc-y' });
    assert.equal(s.storedToken('quota-style', 'accessToken'), 'form-access-token-abcdefgh');
    assert.equal((await api.json<J>('GET', '/api/auth-files/quota-style')).body.file.accountId, 'acc-y');
    const bad = await form({ name: '' });
    assert.equal(bad.status, 400);
    const del = await api.request(
      'POST',
      '/auth/delete',
      new URLSearchParams({ name: 'quota-style', _csrf: api.csrf }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    assert.equal(del.status, 303);
    assert.equal((await api.json<J>('GET', '/api/auth-files/quota-style')).status, 404);
    for (const path of ['/auth', '/auth/new', '/auth/edit?name=acct-01']) {
      const page = await api.request('GET', path, undefined, { accept: 'text/html' });
      assert.equal(page.status, 200, path);
      assert.match(await page.text(), /<div id="app">/);
    }
  });

  it('sets strict security headers and serves preact and htm locally', async () => {
    const res = await api.request('GET', '/', undefined, { accept: 'text/html' });
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(csp, /unsafe-inline|https?:/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, 'nothing from a CDN');
    for (const f of ['preact.mjs', 'hooks.mjs', 'htm.mjs']) {
      const asset = await api.request('GET', `/assets/vendor/${f}`);
      assert.equal(asset.status, 200, f);
      assert.match(asset.headers.get('content-type')!, /javascript/);
    }
    assert.equal((await api.request('GET', '/assets/../package.json')).status, 404);
    assert.equal((await api.request('GET', '/assets/nope.js')).status, 404);
  });

  it('answers /metrics and /healthz, and unknown routes with a JSON 404', async () => {
    const metrics = await api.request('GET', '/metrics');
    assert.match(metrics.headers.get('content-type')!, /text\/plain/);
    assert.match(await metrics.text(), /codex_fleet_account_remaining_percent/);
    assert.equal((await api.json<J>('GET', '/healthz')).body.status, 'ok');
    const nope = await api.json<J>('GET', '/api/nope');
    assert.equal(nope.status, 404);
    assert.match(nope.body.error, /no route/);
  });

  it('pushes change notices over SSE', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/api/events`, { signal: ctrl.signal });
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const reader = res.body!.getReader();
    const seen: string[] = [];
    const read = async (want: string) => {
      const dec = new TextDecoder();
      let buf = '';
      while (!buf.includes(want)) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value);
      }
      seen.push(buf);
      return buf;
    };
    await read('event: hello');
    const id = await s.idOf('acct-01');
    await api.json<J>('POST', `/api/accounts/${id}/refresh`);
    const got = await read('event: accounts');
    assert.match(got, new RegExp(`"id":"${id}"`));
    ctrl.abort();
  });
  // Last: the server drops the connection after a 413, which a pooled client would reuse.
  it('refuses oversized bodies', async () => {
    const big = await api.request(
      'POST',
      '/api/auth-files',
      JSON.stringify({ name: 'x', accessToken: 'a'.repeat(300_000) }),
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(big.status, 413);
  });
});

describe('secrets never leave through a route', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ accounts: 7 });
  });
  after(() => s.close());

  it('walks every route and finds no token or management key in any answer', async () => {
    const api = await new ApiClient(s.url).start();
    // Make every kind of object exist first.
    await api.json('POST', '/api/inspections');
    await api.json('POST', '/api/refresh?wait=true');
    const secrets = s.secrets();
    const acct1 = await s.idOf('acct-01');
    const run = (await api.json<J>('GET', '/api/inspections')).body.runs[0].id;
    const action = (await api.json<J>('GET', '/api/actions')).body.actions[0].id;
    const gets = [
      '/',
      '/accounts',
      '/inspection',
      '/actions',
      '/monitoring',
      '/auth',
      '/auth/new',
      '/auth/edit?name=acct-01',
      '/settings',
      '/healthz',
      '/metrics',
      '/api/session',
      '/api/accounts',
      `/api/accounts/${acct1}`,
      '/api/pool',
      '/api/results',
      '/api/report',
      '/api/forecast',
      '/api/inspections',
      `/api/inspections/${run}`,
      '/api/actions',
      '/api/audit',
      '/api/schedule',
      '/api/settings',
      '/api/cpa-servers',
      '/api/auth-files',
      '/api/auth-files/acct-01',
    ];
    const writes: Array<[string, string, unknown?]> = [
      ['POST', '/api/doctor'],
      ['POST', `/api/accounts/${acct1}/refresh`],
      ['POST', `/api/accounts/${acct1}/disable`],
      ['POST', `/api/accounts/${acct1}/enable`],
      ['POST', `/api/actions/${action}/reject`],
      ['PUT', '/api/settings', { thresholds: { '5h': { disableAtUsedPercent: 95 } } }],
      ['PUT', '/api/cpa-servers/cpa-main', { url: 'http://127.0.0.1:8320' }],
      ['PUT', '/api/auth-files/acct-02', { email: 'x@example.test' }],
      ['POST', '/auth/save', { name: 'acct-03', email: 'y@example.test' }],
    ];
    let checked = 0;
    const check = (where: string, text: string) => {
      checked += 1;
      for (const secret of secrets) assert.ok(!text.includes(secret), `${where} leaked ${secret.slice(0, 12)}…`);
      assert.doesNotMatch(text, /SECRET-\d{4}-abcdefghijklmnop/, `${where} leaked the management key`);
    };
    for (const path of gets) {
      const res = await api.request('GET', path, undefined, {
        accept: path.startsWith('/api') ? 'application/json' : 'text/html',
      });
      assert.equal(res.status, 200, path);
      const headers: string[] = [];
      res.headers.forEach((v, k) => {
        headers.push(`${k}: ${v}`);
      });
      check(`GET ${path}`, `${await res.text()}\n${headers.join('\n')}`);
    }
    for (const [method, path, body] of writes) {
      const res = await api.request(method, path, body);
      assert.ok(res.status < 400, `${method} ${path} → ${res.status}`);
      check(`${method} ${path}`, await res.text());
    }
    assert.equal(checked, gets.length + writes.length);
  });
});

describe('monitor room mounting', () => {
  let s: TestServer;
  const emitter = new EventEmitter();
  before(async () => {
    const monitor = new Hono();
    monitor.get('/summary', (c) => c.json({ requests: 3 }));
    monitor.post('/prices', (c) => c.json({ saved: true }));
    s = await startTestServer({ accounts: 2, monitor, monitorEvents: emitter });
  });
  after(() => s.close());

  it('serves the monitor routes under /api/monitor, behind the same CSRF guard', async () => {
    const api = await new ApiClient(s.url).start();
    assert.deepEqual((await api.json('GET', '/api/monitor/summary')).body, { requests: 3 });
    assert.equal((await fetch(`${s.url}/api/monitor/prices`, { method: 'POST' })).status, 403);
    assert.equal((await api.json('POST', '/api/monitor/prices')).status, 200);
  });

  it("mounts the core's own request monitoring when it has one", async () => {
    const own = await startTestServer({ accounts: 1 });
    try {
      const res = await fetch(`${own.url}/api/monitor/summary`);
      assert.equal(res.status, 200);
      assert.equal(typeof ((await res.json()) as J).requests, 'number');
    } finally {
      await own.close();
    }
  });

  it('turns a burst of committed monitor batches into one throttled SSE notice', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/api/events`, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    while (!buf.includes('event: hello')) buf += dec.decode((await reader.read()).value);
    for (let i = 0; i < 50; i++) emitter.emit('events', [{ id: i }]);
    while (!buf.includes('event: monitor')) buf += dec.decode((await reader.read()).value);
    // A later batch makes a new notice; the 50 before made exactly one.
    emitter.emit('events', [{ id: 51 }]);
    while (buf.split('event: monitor').length < 3) buf += dec.decode((await reader.read()).value);
    assert.equal(buf.split('event: monitor').length - 1, 2);
    ctrl.abort();
  });
});
