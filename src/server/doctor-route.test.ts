// POST /api/doctor over the real core service on a temp data dir: no CPA configured, one unreadable
// auth file, the real Codex CLI; same admin-key rule as every other GET route.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../core/config.ts';
import { createFleetService, FleetService } from '../core/fleet-service.ts';
import type { DoctorReport } from '../doctor/checks.ts';
import { type RunningServer, startServer } from './serve.ts';

const ADMIN_KEY = 'doctor-route-test-admin-key-0123456789';
const CODEX_BIN = new URL(
  '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
  import.meta.url,
).pathname;

describe('POST /api/doctor', () => {
  let dir: string;
  let service: FleetService;
  let server: RunningServer;
  const savedBin = process.env.CODEX_CLI_BIN;

  before(async () => {
    process.env.CODEX_CLI_BIN = CODEX_BIN;
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-doctor-route-'));
    const accountDir = join(dir, 'account');
    mkdirSync(accountDir);
    writeFileSync(join(accountDir, 'broken.json'), '{ not json');
    const config = resolveConfig({ accountDir, dataDir: join(dir, 'data'), chatgptUrl: 'http://127.0.0.1:9' }, {});
    const created = await createFleetService({ config, background: false });
    assert.ok(created instanceof FleetService);
    service = created;
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      service,
      dataDir: config.dataDir,
      env: { CODEX_FLEET_ADMIN_KEY: ADMIN_KEY },
      log: () => {},
    });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    if (savedBin === undefined) delete process.env.CODEX_CLI_BIN;
    else process.env.CODEX_CLI_BIN = savedBin;
  });

  it('needs the admin key like every other route', async () => {
    const res = await fetch(`${server.url}/api/doctor`, { method: 'POST' });
    assert.equal(res.status, 401);
  });

  it('reports the missing CPA server, the unreadable file and the CLI, with causes of an empty monitoring page', async () => {
    const res = await fetch(`${server.url}/api/doctor`, { method: 'POST', headers: { 'X-Admin-Key': ADMIN_KEY } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const report = (await res.json()) as DoctorReport;
    const byId = new Map(report.checks.map((c) => [c.id, c]));
    const cpa = byId.get('cpa.configured');
    assert.equal(cpa?.status, 'warning');
    assert.match(cpa.fix ?? '', /codex-fleet cpa add/);
    const unreadable = byId.get('accounts.readable');
    assert.equal(unreadable?.status, 'failed');
    assert.match(unreadable.message, /broken\.json/);
    assert.equal(byId.get('codex_cli.available')?.status, 'ok', 'the real Codex CLI answers --version');
    assert.equal(report.ok, false, 'a failed check makes the report not ok');
    assert.equal(report.counts.failed, report.checks.filter((c) => c.status === 'failed').length);
    assert.equal(report.counts.warning, report.checks.filter((c) => c.status === 'warning').length);
    assert.equal(report.emptyMonitoring.length, 6);
    assert.ok(
      report.emptyMonitoring.every((c) => c.status === 'unknown'),
      'no CPA server: no cause can be judged',
    );
    assert.ok(!Number.isNaN(Date.parse(report.generatedAt)));
  });

  it('joins a run in progress instead of starting another', async () => {
    const first = service.doctor();
    const second = service.doctor();
    assert.equal(first, second, 'one run for concurrent callers');
    await first;
    const third = service.doctor();
    assert.notEqual(third, first, 'a finished run is not reused: each click checks again');
    await third;
  });
});
