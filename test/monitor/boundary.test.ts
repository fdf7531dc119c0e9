// The record boundary (issue 15): absurd timestamps are quarantined with a clear reason and never
// reach the views, the export or `monitor status`; quarantined lines and raw failure bodies are
// masked before they are stored, so the database file itself holds no token from the usage data.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createMonitorService } from '../../src/monitor/service.ts';
import { monitorRoutes } from '../../src/server/routes/monitor.ts';
import { openStore } from '../../src/store/open.ts';
import { runCli } from '../support/cli.ts';
import { generateRecords } from '../support/monitor-events.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-monboundary-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const START = Date.UTC(2026, 10, 5);
const SECRET_KEY = 'sk-live-9f8e7d6c5b4a39281706';
const BEARER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlMTIzNDU2';

test('absurd timestamps are quarantined; requests, export and status keep working; nothing secret is stored', async () => {
  const dbPath = join(dir, 'codex-fleet.db');
  const db = await openStore({ databaseUrl: `sqlite:${dbPath}` });
  const mon = await createMonitorService({ db, clock: () => START + 3_600_000 });
  const good = [...generateRecords(50, { start: START, stepMs: 1000, seed: 9 })];
  const bad = [
    { timestamp: 1e16, model: 'gpt-5', api_key: SECRET_KEY, request_id: 'big-1' },
    { timestamp: 1e308, model: 'gpt-5', request_id: 'big-2' },
    { timestamp: '1e16', model: 'gpt-5', request_id: 'big-3' },
    { timestamp: '+275760-09-13T00:00:00Z', model: 'gpt-5', request_id: 'big-4' },
    // Malformed for another reason, with a token in the line.
    { timestamp: '2026-11-05T00:00:00Z', model: 'gpt-5', tokens: { input_tokens: -1 }, note: `Bearer ${BEARER}` },
  ];
  const failing = {
    timestamp: '2026-11-05T00:10:00Z',
    model: 'gpt-5',
    request_id: 'fail-1',
    fail: {
      status_code: 401,
      body: `{"error":{"message":"token ${BEARER} for bob@example.com rejected, key ${SECRET_KEY}"}}`,
    },
  };
  const r = await mon.ingest.ingestRaw([...good, ...bad, failing].map((x) => JSON.stringify(x)));
  assert.equal(r.inserted, 51);
  assert.equal(r.quarantined, bad.length);
  const reasons = await db.query<{ reason: string; raw: string }>('SELECT reason, raw FROM mon_quarantine ORDER BY id');
  assert.equal(reasons.filter((q) => /^timestamp: /.test(q.reason)).length, 4, JSON.stringify(reasons));
  assert.ok(reasons.some((q) => /outside the accepted range/.test(q.reason)));

  const api = monitorRoutes({ monitor: mon });
  const requests = await api.request('/requests?limit=1000');
  assert.equal(requests.status, 200);
  assert.equal(((await requests.json()) as { rows: unknown[] }).rows.length, 51);
  for (const format of ['csv', 'jsonl']) {
    const exp = await api.request(`/export?format=${format}`);
    assert.equal(exp.status, 200, `export ${format}`);
    const body = await exp.text();
    assert.ok(!body.includes('big-1') && !body.includes(SECRET_KEY), `export ${format} holds no quarantined record`);
  }
  await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.close();

  const status = await runCli(['monitor', 'status', '--data-dir', dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  assert.equal(s.events, 51);
  assert.equal(s.quarantined, bad.length);
  assert.match(s.newestEvent, /^2026-11-05T/);

  // grep the database file itself: no token, key or email that appeared in the usage data.
  const bytes = readFileSync(dbPath).toString('latin1');
  for (const secret of [SECRET_KEY, BEARER, 'bob@example.com'])
    assert.ok(!bytes.includes(secret), `the database file contains ${secret.slice(0, 12)}…`);
  assert.ok(bytes.includes('[email]'), 'the masked failure body is stored');
});
