import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient, startTestServer } from '../../test/support/fleet-server.ts';
import { waitFor } from '../../test/support/wait.ts';
import { resolveConfig } from '../core/config.ts';
import { createFleetService } from '../core/fleet-service.ts';
import { AdminKeyError } from './middleware/admin-key.ts';
import { startServer } from './serve.ts';

describe('startServer', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-serve-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a non-loopback bind when no admin key can be had, before listening', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const fleet = await createFleetService({
      config: resolveConfig({ dataDir: join(dir, 'data'), accountDir: join(dir, 'account') }, {}),
      background: false,
    });
    try {
      await assert.rejects(
        startServer({
          host: '0.0.0.0',
          port: 0,
          service: fleet,
          dataDir: join(blocker, 'data'),
          env: {},
          log: () => {},
        }),
        (e: Error) => e instanceof AdminKeyError && /refusing to bind 0\.0\.0\.0/.test(e.message),
      );
    } finally {
      await fleet.close();
    }
  });

  it('on close: stops accepting, ends SSE streams, lets the in-flight request finish, then closes the service', async () => {
    const s = await startTestServer({ accounts: 3 });
    const api = await new ApiClient(s.url).start();
    const sse = await fetch(`${s.url}/api/events`);
    const sseText = sse.text();
    const id = await s.idOf('acct-01');
    const release = s.holdProbe('acct-01');
    const inflight = api.request('POST', `/api/accounts/${id}/refresh`);
    await waitFor(
      async () => {
        const { account } = (await api.json<{ account: { refreshing: boolean } }>('GET', `/api/accounts/${id}`)).body;
        return { ok: account.refreshing, seen: account };
      },
      { what: 'acct-01 to show as refreshing' },
    );
    // In flight upstream, not just scheduled: shutdown starts no new probe but lets a started one finish.
    await release.arrived;
    const closing = s.server.close();
    await sseText; // the stream ended instead of holding the server open
    assert.equal(s.closed, false, 'the service stays open while a request is in flight');
    release();
    const res = await inflight;
    assert.equal(res.status, 200);
    await closing;
    assert.equal(s.closed, true);
    await assert.rejects(fetch(`${s.url}/healthz`));
    await s.close();
  });

  it('refreshes on its interval, joining a refresh in progress instead of stacking them', async () => {
    const s = await startTestServer({ accounts: 2, refreshIntervalSeconds: 0.02, initialRefresh: false });
    try {
      // Count the interval's ticks at the gate it calls, so "no second refresh" is seen, not slept on.
      const gate = s.server.fleetApp.gate;
      const tickets: string[] = [];
      const refreshAll = gate.refreshAll.bind(gate);
      gate.refreshAll = () => {
        const ticket = refreshAll();
        tickets.push(ticket.status);
        return ticket;
      };
      const release = s.holdProbe('acct-01');
      const seen = () => ({ tickets, refreshAllCalls: s.refreshAllCalls });
      await waitFor(() => ({ ok: s.refreshAllCalls >= 1, seen: seen() }), {
        what: 'the first scheduled refresh',
      });
      // Many ticks come while the first refresh hangs: each joins it, none starts another.
      await waitFor(() => ({ ok: tickets.filter((t) => t === 'joined').length >= 5, seen: seen() }), {
        what: 'five ticks to join the hanging refresh',
      });
      assert.equal(s.refreshAllCalls, 1);
      assert.equal(tickets.filter((t) => t === 'started').length, 1);
      release();
      await waitFor(() => ({ ok: s.refreshAllCalls >= 2, seen: seen() }), {
        what: 'a new refresh once the first has finished',
      });
    } finally {
      await s.close();
    }
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const child = spawn(process.execPath, ['test/support/serve-child.ts', join(dir, 'child')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /url (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
    });
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /SIGTERM received/);
    assert.match(out, /closed service/);
  });
});
