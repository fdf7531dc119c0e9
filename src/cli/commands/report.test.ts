// `report`, `forecast` and `metrics` end to end against the upstream simulator: live probes, then
// the default mode from the store with no network, checked against the HealthReport schema.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import type { HealthReport } from '../../domain/report.ts';
import { type ScenarioName, type Simulator, startSimulator } from '../../sim/index.ts';
import { runReport } from './report.ts';

const run = promisify(execFile);
const schema = JSON.parse(await readFile(new URL('../../inspect/health-report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

// scenario → expected status (UPSTREAM.md §2 through the whole pipeline)
const EXPECTED: Array<[ScenarioName, HealthReport['accounts'][number]['status'], boolean]> = [
  ['healthy', 'healthy', false],
  ['weekly-only-free', 'healthy', false],
  ['exhausted', 'rate-limited', true],
  ['five-hour-full', 'rate-limited', true],
  ['usage-limit-429', 'rate-limited', true],
  ['usage-not-included', 'error', false],
  ['deactivated-workspace', 'error', false],
  ['account-deactivated', 'error', false],
  ['cloudflare', 'warning', false],
  ['server-error', 'warning', false],
];

describe('report / forecast / metrics commands against the simulator', () => {
  let sim: Simulator;
  let dir: string;
  let flags: Record<string, string>;

  before(async () => {
    sim = await startSimulator({
      accounts: EXPECTED.map(([scenario], i) => ({
        scenario,
        email: `user${i}@example.com`,
        name: `user${i}`,
        // Known usage for the usable ones; the others keep their scenario's own numbers.
        ...(scenario === 'healthy' || scenario === 'weekly-only-free'
          ? { primaryUsedPercent: 10, secondaryUsedPercent: 10 }
          : {}),
      })),
    });
    dir = await mkdtemp(join(tmpdir(), 'codex-fleet-report-'));
    await sim.writeAuthFiles(join(dir, 'account'), 'cpa');
    flags = {
      dataDir: join(dir, 'data'),
      accountDir: join(dir, 'account'),
      chatgptUrl: sim.chatgptUrl,
      authUrl: sim.authUrl,
      retries: '0',
      retryDelay: '0.01',
      timeoutMs: '3000',
    };
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const statusOf = (r: HealthReport) => new Map(r.accounts.map((a) => [a.email, a]));

  it('--live --json --out: every scenario gets its status, the file validates', async () => {
    const out = join(dir, 'live.json');
    assert.equal(await runReport({ ...flags, live: true, json: true, out }), 0);
    const report = JSON.parse(await readFile(out, 'utf8')) as HealthReport;
    assert.ok(validate(report), JSON.stringify(validate.errors));
    assert.equal(report.mode, 'live');
    const by = statusOf(report);
    EXPECTED.forEach(([scenario, status, rateLimited], i) => {
      const a = by.get(`user${i}@example.com`);
      assert.ok(a, `account for ${scenario}`);
      assert.equal(a.status, status, `${scenario}: ${a.extensions?.reasons}`);
      assert.equal(a.rateLimited, rateLimited, scenario);
    });
    assert.equal('quota5hPercent' in by.get('user1@example.com')!, false, 'weekly-only free plan: no 5h value');
    assert.equal(by.get('user0@example.com')?.quota5hPercent, 90);
    assert.equal(report.recommendation?.email, 'user0@example.com');
    assert.equal([...by.values()].filter((a) => a.rateLimited === true).length, 3);
  });

  it('default mode answers from the store without network, same statuses', async () => {
    const out = join(dir, 'cached.json');
    await sim.close(); // any network call would now fail
    assert.equal(await runReport({ ...flags, json: true, out }), 0);
    const report = JSON.parse(await readFile(out, 'utf8')) as HealthReport;
    assert.ok(validate(report));
    assert.equal(report.mode, 'default');
    const by = statusOf(report);
    for (const [i, [scenario, status]] of EXPECTED.entries()) {
      assert.equal(by.get(`user${i}@example.com`)?.status, status, scenario);
    }
  });

  it('exit 1 with a message when there are no accounts or the file cannot be written', async () => {
    const empty = { ...flags, dataDir: join(dir, 'empty-data'), accountDir: join(dir, 'none') };
    await mkdir(empty.accountDir);
    assert.equal(await runReport({ ...empty, json: true, out: join(dir, 'x.json') }), 1);
    assert.equal(await runReport({ ...flags, json: true, out: join(dir, 'no-such-dir', 'r.json') }), 1);
  });

  it('metrics and forecast print from the store', async () => {
    const cli = join(process.cwd(), 'src/cli/main.ts');
    const common = ['--data-dir', flags.dataDir, '--account-dir', flags.accountDir];
    const metrics = await run(process.execPath, [cli, 'metrics', ...common]);
    assert.match(metrics.stdout, /^codex_fleet_pool_accounts\{status="rate-limited"\} 3$/m);
    assert.match(metrics.stdout, /^codex_fleet_probe_errors_total\{reason="cloudflare_challenge"\} 1$/m);
    assert.doesNotMatch(metrics.stdout, /@example\.com/);
    const forecast = await run(process.execPath, [cli, 'forecast', '--json', ...common]);
    const f = JSON.parse(forecast.stdout);
    assert.equal(f.accounts.length, EXPECTED.length);
    assert.ok(
      f.accounts.every((a: { windows: Array<{ confidence: string }> }) =>
        a.windows.every((w) => w.confidence === 'none'),
      ),
    );
  });
});
