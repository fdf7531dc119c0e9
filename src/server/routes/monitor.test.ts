import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateRecords } from '../../../test/support/monitor-events.ts';
import { applyRetention } from '../../monitor/retention.ts';
import { createMonitorService, type MonitorService } from '../../monitor/service.ts';
import type { Db } from '../../store/db.ts';
import { openStore } from '../../store/open.ts';
import { monitorRoutes } from './monitor.ts';

const START = Date.UTC(2026, 10, 5);
let dir: string;
let db: Db;
let mon: MonitorService;
let api: ReturnType<typeof monitorRoutes>;
const records = [...generateRecords(800, { start: START, stepMs: 20_000, seed: 3, failureRate: 0.3 })];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-monapi-'));
  db = await openStore({ databaseUrl: `sqlite:${join(dir, 'm.db')}` });
  mon = await createMonitorService({ db, clock: () => START + 10 * 3_600_000 });
  await mon.ingest.ingestRaw(records.map((r) => JSON.stringify(r)));
  api = monitorRoutes({ monitor: mon });
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await api.request(path);
  return { status: res.status, text: await res.text() };
};

test('no response ever carries a raw body, an email or a raw API key', async () => {
  const raw = await db.get<{ n: number; leaked: number }>(
    "SELECT COUNT(*) AS n, SUM(body LIKE '%alice@example.com%') AS leaked FROM mon_failure_raw",
  );
  assert.ok(Number(raw?.n) > 0, 'the raw bodies are stored locally');
  assert.equal(Number(raw?.leaked), 0, 'masked before storage (issue 15)');
  const first = JSON.parse((await get('/requests?limit=1')).text).rows[0].id;
  for (const path of [
    '/summary',
    '/accounts',
    '/api-keys',
    '/models',
    '/statuses',
    '/requests?limit=1000',
    '/requests?outcome=failure&limit=1000',
    `/requests/${first}`,
    '/export?format=jsonl',
    '/export?format=csv',
    '/status',
  ]) {
    const r = await get(path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.ok(!r.text.includes('alice@example.com'), `${path} leaks an email`);
    assert.ok(!r.text.includes('sk-client-'), `${path} leaks an API key`);
    assert.ok(!r.text.includes('resets_in_seconds') && !r.text.includes('<title>'), `${path} leaks a raw body`);
  }
});

test('export: JSONL and CSV hold every filtered row with the same columns', async () => {
  const failures = records.filter((r) => r.failed).length;
  const jsonl = (await get('/export?format=jsonl&outcome=failure')).text.trim().split('\n');
  assert.equal(jsonl.length, failures);
  assert.equal(JSON.parse(jsonl[0]).failed, true);
  const csv = (await get('/export?format=csv&outcome=failure')).text.trim().split('\n');
  assert.equal(csv.length, failures + 1);
  assert.match(csv[0], /^time,request_id,provider/);
  const limited = (await get('/export?format=jsonl&maxRows=7')).text.trim().split('\n');
  assert.equal(limited.length, 7);
});

test('bad input is a 400 with a message that says what is wrong', async () => {
  for (const [path, msg] of [
    ['/summary?from=yesterday', /from/],
    ['/summary?status=abc', /status/],
    ['/summary?from=2026-11-05T02:00:00Z&to=2026-11-05T01:00:00Z', /before/],
    ['/requests?limit=0', /limit/],
    ['/requests?cursor=zzz', /cursor/],
    ['/requests?colour=red', /colour/],
    ['/requests/abc', /positive integer/],
    ['/export?format=xml', /jsonl or csv/],
    ['/summary?cacheState=lukewarm', /cacheState/],
  ] as const) {
    const r = await get(path);
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.match(JSON.parse(r.text).error, msg);
  }
  assert.equal((await get('/requests/999999')).status, 404);
});

test('prices: edits are validated, change the estimate, and reset', async () => {
  const before = JSON.parse((await get('/summary')).text).costUsd;
  const { prices } = JSON.parse((await get('/prices')).text);
  const bad = await api.request('/prices', {
    method: 'PUT',
    body: JSON.stringify({ models: { x: { input: 'free' } } }),
  });
  assert.equal(bad.status, 400);
  const doubled = structuredClone(prices);
  for (const m of Object.values(doubled.models) as Array<Record<string, number | null>>) {
    for (const k of ['input', 'cachedInput', 'output']) if (m[k] != null) m[k] = (m[k] as number) * 2;
  }
  assert.equal((await api.request('/prices', { method: 'PUT', body: JSON.stringify(doubled) })).status, 200);
  const after = JSON.parse((await get('/summary')).text).costUsd;
  assert.ok(Math.abs(after - 2 * before) < 1e-6, `${after} vs 2×${before}`);
  assert.equal((await api.request('/prices', { method: 'DELETE' })).status, 200);
  assert.ok(Math.abs(JSON.parse((await get('/summary')).text).costUsd - before) < 1e-9);
});

test('retention: deletes old raw events and their failure rows, keeps hour rollups', async () => {
  const bad = await api.request('/retention', { method: 'PUT', body: JSON.stringify({ rawDays: 0 }) });
  assert.equal(bad.status, 400);
  const cut = START + 2 * 3_600_000;
  const old = records.filter((r) => Date.parse(r.timestamp as string) < cut).length;
  const r = await applyRetention(db, { rawDays: 1, minuteRollupDays: 1, hourRollupDays: 30 }, cut + 86_400_000);
  assert.equal(r.deletedEvents, old);
  const orphans = await db.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM mon_failure_raw WHERE event_id NOT IN (SELECT id FROM mon_event)',
  );
  assert.equal(Number(orphans?.n), 0);
  const hours = await db.get<{ n: number }>(
    'SELECT SUM(requests) AS n FROM mon_rollup WHERE grain = 3600000 AND dim = 0',
  );
  assert.equal(Number(hours?.n), records.length, 'hour rollups outlive raw events');
});
