// The account list the core builds once per change (issue 20's benchmark row) is rebuilt after every
// change: a person's disable, a sweep, another process's commit to the store, and a collector batch
// whose requests the join reads. Against the real server, core, store and simulator; asserts state
// (what GET /api/accounts answers), never timing. Also: the ETag answers 304 while nothing changed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import type { FleetService } from '../../src/core/fleet-service.ts';
import type { AccountRequests } from '../../src/core/request-outcomes.ts';
import { authIndexFor } from '../../src/cpa/auth-index.ts';
import { DB_FILE_NAME } from '../../src/store/open.ts';
import { type DemoServer, startDemoServer } from '../support/demo-server.ts';
import { ApiClient } from '../support/fleet-server.ts';
import { within } from '../support/wait.ts';

type View = {
  id: string;
  email: string | null;
  disabled: boolean;
  state: string | null;
  planEndsAt?: string | null;
  requests?: AccountRequests | null;
};

describe('the account list is rebuilt after each change', () => {
  let s: DemoServer;
  let core: FleetService;
  let api: ApiClient;

  before(async () => {
    s = await startDemoServer(6);
    core = s.service as unknown as FleetService;
    api = await new ApiClient(s.url).start();
  });
  after(async () => {
    await s?.close();
  });

  async function list(): Promise<{ accounts: View[]; etag: string }> {
    const res = await api.request('GET', '/api/accounts');
    assert.equal(res.status, 200);
    const etag = res.headers.get('etag');
    assert.ok(etag, 'GET /api/accounts sends an ETag');
    return { ...((await res.json()) as { accounts: View[] }), etag };
  }

  async function notModified(etag: string): Promise<boolean> {
    const res = await api.request('GET', '/api/accounts', undefined, { 'if-none-match': etag });
    await res.arrayBuffer();
    assert.ok(res.status === 304 || res.status === 200, `status ${res.status}`);
    return res.status === 304;
  }

  it('after a sweep the answer shows what it found', async () => {
    const before = await list();
    assert.ok(
      before.accounts.every((a) => a.state === null),
      'no account probed yet',
    );
    const res = await api.request('POST', '/api/refresh?wait=true');
    assert.equal(res.status, 200, await res.text());
    const after = await list();
    assert.ok(
      after.accounts.every((a) => a.state !== null),
      `every account shows its probe (${after.accounts.map((a) => a.state).join(', ')})`,
    );
    assert.notEqual(after.etag, before.etag);
  });

  it('answers 304 to the ETag it sent while nothing changed, and the CLI-facing list agrees', async () => {
    const { accounts, etag } = await list();
    assert.equal(accounts.length, 6);
    assert.equal(await notModified(etag), true);
    assert.equal(await notModified(`W/${etag}, "other"`), true, 'a weak or listed tag matches too');
    assert.equal(await notModified('"not-it"'), false);
    // The core's own list (what the CLI renders) is the same answer.
    assert.deepEqual(JSON.parse(JSON.stringify(await core.listAccounts())), accounts);
  });

  it('after a disable and an enable (actions) the answer changes', async () => {
    const first = await list();
    const target = first.accounts.find((a) => !a.disabled);
    assert.ok(target, 'an enabled account');
    const off = await api.request('POST', `/api/accounts/${encodeURIComponent(target.id)}/disable`);
    assert.equal(off.status, 200, await off.text());
    const second = await list();
    assert.equal(second.accounts.find((a) => a.id === target.id)?.disabled, true);
    assert.notEqual(second.etag, first.etag);
    assert.equal(await notModified(first.etag), false, 'the old ETag no longer matches');
    const on = await api.request('POST', `/api/accounts/${encodeURIComponent(target.id)}/enable`);
    assert.equal(on.status, 200, await on.text());
    assert.equal((await list()).accounts.find((a) => a.id === target.id)?.disabled, false);
  });

  it('after a probe the answer shows the new state', async () => {
    const { accounts } = await list();
    const view = accounts.find((a) => a.state === 'ok');
    assert.ok(view, `an ok account among ${accounts.map((a) => a.state).join(', ')}`);
    const sim = s.sim.accounts.find((a) => a.email === view.email);
    assert.ok(sim, `the simulator holds ${view.email}`);
    s.sim.setScenario(sim.id, 'exhausted');
    const res = await api.request('POST', `/api/accounts/${encodeURIComponent(view.id)}/refresh`);
    assert.equal(res.status, 200, await res.text());
    const after = (await list()).accounts.find((a) => a.id === view.id);
    assert.notEqual(after?.state, 'ok', `the list shows the re-probe's state (${after?.state})`);
  });

  it("after another process's commit to the store the answer changes", async () => {
    const { accounts } = await list();
    const target = accounts.find((a) => !a.disabled);
    assert.ok(target);
    // Another connection (as a CLI run is) stores the account's plan term, which the views show.
    const other = new DatabaseSync(join(core.config.dataDir, DB_FILE_NAME));
    try {
      const endsAt = '2031-01-01T00:00:00.000Z';
      const before = await list();
      assert.equal(before.accounts.find((a) => a.id === target.id)?.planEndsAt ?? null, null, 'no term yet');
      other
        .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)')
        .run(`plan.term.${target.id}`, JSON.stringify({ endsAt, willRenew: true, checkedAt: Date.now() }), Date.now());
      const after = await list();
      assert.equal(after.accounts.find((a) => a.id === target.id)?.planEndsAt, endsAt);
      assert.notEqual(after.etag, before.etag);
    } finally {
      other.close();
    }
  });

  it("after a collector batch the account shows its requests (once the join's read is in)", async () => {
    const { accounts } = await list();
    const files = (await core.fleet.accounts()).accounts.filter((a) => a.sourcePath && a.sourceIndex == null);
    const target = files[0];
    assert.ok(target, 'an account in a single auth file');
    assert.equal(accounts.find((a) => a.id === target.id)?.requests ?? null, null, 'no requests yet');
    const mon = core.monitor!.service;
    const announced = new Promise<void>((resolve) => {
      const off = core.subscribe((e) => {
        if (e.type === 'accounts' && e.id === undefined) {
          off();
          resolve();
        }
      });
    });
    await mon.ingest.ingestRaw([
      {
        timestamp: new Date().toISOString(),
        latency_ms: 200,
        auth_index: authIndexFor('codex', target.sourcePath!),
        tokens: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
        failed: false,
        fail: { status_code: 0, body: '' },
        provider: 'codex',
        model: 'gpt-5-codex',
        api_key: 'sk-client-test-abcdefghijkl',
        request_id: 'account-list-test-1',
      },
    ]);
    await core.requestOutcomes!.settled();
    await within(announced, { what: "the core's announcement of the new outcomes ('accounts')", timeoutMs: 20_000 });
    const view = (await list()).accounts.find((a) => a.id === target.id);
    assert.equal(view?.requests?.last24h?.requests, 1, JSON.stringify(view?.requests));
  });
});
