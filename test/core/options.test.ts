// Options act the same from every face (issue 13): the dashboard's "Probe concurrency" setting and
// --concurrency reach the probe from the CLI and the server, and --probe reaches the probe from quota,
// report, forecast, inspect and serve. Each test proves it on the simulator's own counters.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';
import { runCli } from '../support/cli.ts';

const COUNT = 8;
let sim: Simulator;
let dir: string;
let flags: string[];
let core: FleetService;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-options-'));
  // Latency makes overlapping probes visible in the simulator's peak in-flight counter.
  sim = await startSimulator({
    accounts: Array.from({ length: COUNT }, (_, i) => ({ scenario: 'healthy' as const, name: `o${i}` })),
    latency: 150,
  });
  const accountDir = join(dir, 'account');
  await mkdir(accountDir, { recursive: true });
  for (const a of sim.accounts) await writeFile(join(accountDir, `${a.name}.json`), JSON.stringify(cpaFile(a)));
  flags = [
    '--data-dir',
    join(dir, 'data'),
    '--account-dir',
    accountDir,
    '--chatgpt-url',
    sim.chatgptUrl,
    '--auth-url',
    sim.authUrl,
    '--retries',
    '0',
  ];
  const config = resolveConfig(
    { dataDir: join(dir, 'data'), accountDir, chatgptUrl: sim.chatgptUrl, authUrl: sim.authUrl, retries: 0 },
    {},
  );
  core = await createFleetService({ config, background: false });
  // The dashboard's setting, saved through the core like the Settings page does.
  await core.setSettings({ probeConcurrency: 1 });
});

after(async () => {
  await core?.close();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the concurrency setting reaches the probe from every face', () => {
  it('CLI quota without --concurrency: the stored setting (1) applies', async () => {
    sim.resetStats();
    const run = await runCli(['quota', '--refresh', '--json', ...flags]);
    assert.equal(JSON.parse(run.stdout).length, COUNT, run.stderr);
    assert.equal(sim.stats().peakInFlight, 1);
  });

  it('CLI inspect without --concurrency: the stored setting applies', async () => {
    sim.resetStats();
    const run = await runCli(['inspect', '--json', ...flags]);
    assert.equal(JSON.parse(run.stdout).results.length, COUNT, run.stderr);
    assert.equal(sim.stats().peakInFlight, 1);
  });

  it('the server face (an inspection from the dashboard) uses the setting', async () => {
    sim.resetStats();
    const run = await core.runInspection('local');
    assert.equal(run.results?.length, COUNT);
    assert.equal(sim.stats().peakInFlight, 1);
  });

  it('an explicit --concurrency beats the setting', async () => {
    sim.resetStats();
    const run = await runCli(['quota', '--refresh', '--json', '--concurrency', '4', ...flags]);
    assert.equal(JSON.parse(run.stdout).length, COUNT, run.stderr);
    const peak = sim.stats().peakInFlight;
    assert.ok(peak > 1 && peak <= 4, `peak in flight ${peak}`);
  });
});

describe('--probe is checked by every command that takes it', () => {
  for (const args of [['quota'], ['report'], ['forecast'], ['inspect'], ['serve', '--port', '0']]) {
    it(`${args[0]} refuses an unknown --probe with a clear message`, async () => {
      const run = await runCli([...args, '--probe', 'bogus', ...flags]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /--probe must be one of http, codex-cli, auto/);
    });
  }
});

describe('--probe codex-cli reaches the probe', () => {
  const viaCli = (source: unknown) => assert.equal(source, 'codex-cli');
  // The store keeps how each probe read the quota: the Codex CLI's app-server, or an HTTP usage path.
  const sources = async () =>
    new Map(
      (await core.fleet.evidence()).map((e) => [
        e.account.name,
        e.probe?.usagePath?.startsWith('codex app-server') ? 'codex-cli' : (e.probe?.usagePath ?? null),
      ]),
    );

  it('quota', async () => {
    const run = await runCli(['quota', 'o0', '--refresh', '--json', '--probe', 'codex-cli', ...flags]);
    viaCli(JSON.parse(run.stdout)[0]?.source);
  });

  it('inspect', async () => {
    const run = await runCli(['inspect', '--json', '--probe', 'codex-cli', ...flags]);
    for (const r of JSON.parse(run.stdout).results) viaCli(r.evidence.source);
  });

  it('report --live', async () => {
    const run = await runCli(['report', '--live', '--json', '--probe', 'codex-cli', ...flags]);
    assert.equal(run.code, 0, run.stderr);
    for (const source of (await sources()).values()) viaCli(source);
  });

  it('forecast --live', async () => {
    await runCli(['inspect', '--json', ...flags]); // back to http first, so the change is visible
    for (const source of (await sources()).values()) assert.notEqual(source, 'codex-cli');
    const run = await runCli(['forecast', '--live', '--json', '--probe', 'codex-cli', ...flags]);
    assert.equal(run.code, 0, run.stderr);
    for (const source of (await sources()).values()) viaCli(source);
  });

  it('serve (the core opened the way serve opens it)', async () => {
    await runCli(['inspect', '--json', ...flags]);
    const config = resolveConfig(
      { dataDir: join(dir, 'data'), accountDir: join(dir, 'account'), chatgptUrl: sim.chatgptUrl, retries: 0 },
      {},
    );
    const served = await createFleetService({ config, background: false, probe: 'codex-cli' });
    try {
      await served.runInspection('local');
      for (const source of (await sources()).values()) viaCli(source);
    } finally {
      await served.close();
    }
  });
});
