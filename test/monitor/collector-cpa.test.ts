// Requests sent through the REAL CPA v7.2.140 become usage records that the collector picks up over
// RESP (LPOP) and over HTTP, land in the store, reach the realtime emitter and the JSON API.
// Ban safety: only the right management key is ever sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CpaClient } from '../../src/cpa/client.ts';
import { Collector } from '../../src/monitor/collector.ts';
import { HttpQueueSource } from '../../src/monitor/collectors/http-queue.ts';
import { RespSource } from '../../src/monitor/collectors/resp.ts';
import type { UsageSource } from '../../src/monitor/collectors/types.ts';
import type { InsertedEvent } from '../../src/monitor/ingest.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import { monitorRoutes } from '../../src/server/routes/monitor.ts';
import { startSimulator } from '../../src/sim/index.ts';
import { mountOpenAiCompat } from '../../src/sim/openai-compat.ts';
import { LeaseStore } from '../../src/store/lease.ts';
import { openStore } from '../../src/store/open.ts';
import { CPA_CLIENT_KEY, type StartedCpa, tryStartCpa } from '../support/cpa.ts';
import { waitFor } from '../support/wait.ts';

const failNext = { count: 0 };
const sim = await startSimulator({ accounts: [], extraRoutes: (app) => mountOpenAiCompat(app, { failNext }) });
const started = await tryStartCpa({ upstreamBaseUrl: `${sim.baseUrl}/v1` });
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
const dir = mkdtempSync(join(tmpdir(), 'cf-moncpa-'));

after(async () => {
  await cpa?.stop();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sendThroughCpa(content: string): Promise<number> {
  const res = await fetch(`${cpa!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${CPA_CLIENT_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content }] }),
  });
  await res.text();
  return res.status;
}

// CPA cools an upstream down after repeated 500s, so only the last test makes a failing request.
async function collectThrough(name: string, makeSource: () => UsageSource, withFailure: boolean) {
  const db = await openStore({ databaseUrl: `sqlite:${join(dir, `${name}.db`)}` });
  const mon = await createMonitorService({ db });
  const seen: Array<{ at: number; events: InsertedEvent[] }> = [];
  mon.emitter.on('events', (events: InsertedEvent[]) => seen.push({ at: Date.now(), events }));
  const collector = new Collector({
    source: makeSource(),
    ingest: mon.ingest,
    leases: new LeaseStore(db),
    spoolPath: join(dir, `${name}.spool`),
    idleMs: 50,
  });
  const start = await collector.start();
  assert.ok(start.ok, JSON.stringify(start));
  const loop = collector.run();
  try {
    const sentAt = Date.now();
    assert.equal(await sendThroughCpa(`hello from ${name} one`), 200);
    assert.equal(await sendThroughCpa(`hello from ${name} two, a longer prompt`), 200);
    if (withFailure) {
      failNext.count = 100; // more than CPA's own retries
      assert.ok((await sendThroughCpa(`this one fails ${name}`)) >= 400);
      failNext.count = 0;
    }
    const want = withFailure ? 3 : 2;
    await waitFor(
      () => ({
        ok: seen.flatMap((s) => s.events).length >= want,
        seen: `${seen.flatMap((s) => s.events).length} events; last error: ${collector.stats.lastError ?? 'none'}`,
      }),
      { what: `the collector to store ${want} events`, intervalMs: 100 },
    );
    const events = seen.flatMap((s) => s.events).map((x) => x.event);
    assert.ok(events.length >= want, `collected ${events.length} events: ${collector.stats.lastError ?? ''}`);
    const ok = events.filter((e) => !e.failed);
    assert.ok(ok.length >= 2);
    assert.equal(ok[0].model, 'sim-model');
    assert.equal(ok[0].status, 200);
    assert.ok(ok[0].tokens.input > 0 && ok[0].tokens.output > 0);
    if (withFailure) {
      const failed = events.filter((e) => e.failed);
      assert.ok(failed.length >= 1);
      assert.equal(failed[0].status, 500);
      assert.equal(failed[0].failure?.message, 'simulated upstream failure');
    }
    assert.equal(ok[0].apiKeyLabel, maskedClientKey);
    const delay = (seen.at(-1)?.at ?? 0) - sentAt;
    return { mon, db, collector, loop, delay };
  } catch (error) {
    await collector.stop();
    await db.close();
    throw error;
  }
}

const maskedClientKey = '…-key';

describe('monitor against the real CPA', () => {
  test('HTTP usage-queue: the same, through the CPA client', { skip }, async () => {
    const client = new CpaClient({ name: 'real', url: cpa!.url, managementKey: cpa!.key });
    const { db, collector, delay } = await collectThrough('http', () => new HttpQueueSource(client, cpa!.url), false);
    try {
      console.error(`# HTTP: request sent → realtime event after ${delay} ms`);
      assert.equal(collector.stats.errors, 0, collector.stats.lastError ?? '');
    } finally {
      await collector.stop();
      await db.close();
    }
  });
  test('RESP LPOP: requests through CPA reach the store, the realtime emitter and the API', { skip }, async () => {
    const u = new URL(cpa!.url);
    const { mon, db, collector, delay } = await collectThrough(
      'resp',
      () => new RespSource({ host: u.hostname, port: Number(u.port), key: cpa!.key }),
      true,
    );
    try {
      console.error(`# RESP: request sent → realtime event after ${delay} ms`);
      await collector.stop();
      assert.equal(collector.stats.errors, 0, collector.stats.lastError ?? '');
      const api = monitorRoutes({ monitor: mon, collector: () => collector.stats });
      const summary = (await (await api.request('/summary')).json()) as {
        requests: number;
        failures: number;
        unpricedModels: string[];
      };
      assert.ok(summary.requests >= 3 && summary.failures >= 1);
      assert.deepEqual(summary.unpricedModels, ['sim-model']);
      const list = (await (await api.request('/requests?outcome=failure')).json()) as {
        rows: Array<{ failure: { message: string } }>;
      };
      assert.equal(list.rows[0].failure.message, 'simulated upstream failure');
      const csv = await (await api.request('/export?format=csv')).text();
      assert.ok(csv.split('\n').length >= 5);
      assert.ok(
        !csv.includes(CPA_CLIENT_KEY) && !csv.includes('"type":"server_error"'),
        'no raw key or raw body in exports',
      );
      const raw = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_failure_raw');
      assert.ok(Number(raw?.n) >= 1, 'the raw body is kept locally');
    } finally {
      await collector.stop();
      await db.close();
    }
  });
});
