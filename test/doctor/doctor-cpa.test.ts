// `codex-fleet doctor` against the REAL CPA v7.2.140: a passing setup, usage statistics disabled in
// its config file, a moved auth dir (auth_index changes), a collector lease, and a wrong key — tried
// exactly once (CPA bans an IP after 5 bad keys), the breaker keeping a second run from trying again.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DoctorReport } from '../../src/doctor/checks.ts';
import { leaseNameFor } from '../../src/monitor/collector.ts';
import { LeaseStore } from '../../src/store/lease.ts';
import { openStore } from '../../src/store/open.ts';
import { REPO_ROOT, runCli } from '../support/cli.ts';
import { CPA_CLIENT_KEY, type StartedCpa, tryStartCpa, waitForAuthFiles, writeCodexAuthFile } from '../support/cpa.ts';
import { waitFor } from '../support/wait.ts';

let cpa: StartedCpa | null = null;
let skip: string | false = false;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-doctor-'));
  // A closed upstream: a request through CPA fails, but it is a request CPA counts and publishes.
  const started = await tryStartCpa({ upstreamBaseUrl: 'http://127.0.0.1:9/v1' });
  if ('skip' in started) skip = started.skip;
  else cpa = started;
});
after(async () => {
  await cpa?.stop();
  await rm(dir, { recursive: true, force: true });
});

const store = (name: string) => ['--data-dir', join(dir, name, 'data'), '--account-dir', join(dir, name, 'account')];

async function addServer(name: string, key: string): Promise<void> {
  const run = await runCli(['cpa', 'add', 'main', cpa!.url, ...store(name).slice(0, 2)], {
    env: { CODEX_FLEET_CPA_KEY: key },
  });
  assert.equal(run.code, 0, run.stderr);
}

const CODEX_BIN = join(REPO_ROOT, 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex');

async function doctor(
  name: string,
  codexBin = CODEX_BIN,
): Promise<{ code: number | null; report: DoctorReport; stdout: string }> {
  // The operator's account directory exists (possibly empty: CPA-only); a missing one is an error of its own.
  await mkdir(join(dir, name, 'account'), { recursive: true });
  const run = await runCli(['doctor', '--json', ...store(name)], { env: { CODEX_CLI_BIN: codexBin } });
  assert.ok(run.stdout.trim().startsWith('{'), `doctor --json printed a report (stderr: ${run.stderr})`);
  return { code: run.code, report: JSON.parse(run.stdout), stdout: run.stdout };
}

const byId = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe('doctor against the real CPA', () => {
  it('passing setup: reachable, publishing, retention, metadata, policy; exit 0', async (t) => {
    if (skip) return t.skip(skip);
    await mkdir(join(dir, 'pass', 'account'), { recursive: true });
    await writeCodexAuthFile(join(dir, 'pass', 'account'), { email: 'local@example.com' });
    const { name } = await writeCodexAuthFile(cpa!.authDir, { email: 'a@example.com' });
    await waitForAuthFiles(cpa!, [name]);
    await addServer('pass', cpa!.key);

    const first = await doctor('pass');
    assert.equal(first.code, 0, JSON.stringify(first.report.checks, null, 1));
    assert.equal(first.report.ok, true);
    for (const id of ['cpa.reachable', 'cpa.usage_publishing', 'cpa.usage_retention', 'cpa.auth_metadata'])
      assert.equal(byId(first.report, id)?.status, 'ok', id);
    assert.equal(byId(first.report, 'accounts.metadata')?.status, 'ok');
    assert.match(byId(first.report, 'codex_cli.available')!.message, /codex-cli 0\.169\.0/);
    assert.match(byId(first.report, 'actions.policy')!.message, /waits for approval/);
    assert.match(byId(first.report, 'cpa.auth_index_stable')!.message, /first run/);
    assert.equal(byId(first.report, 'cpa.traffic')?.status, 'warning', 'no requests yet');
    assert.equal(byId(first.report, 'collector.running')?.status, 'warning', 'no collector ever ran');
    const causes = Object.fromEntries(first.report.emptyMonitoring.map((c) => [c.id, c.status]));
    assert.equal(causes.no_requests_yet, 'warning');
    assert.equal(causes.wrong_key_or_port, 'ok');
    assert.ok(!first.stdout.includes(cpa!.key), 'the management key is never printed');

    // One request through CPA, and a second run: traffic is seen, auth_index compared with the first run.
    const res = await fetch(`${cpa!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${CPA_CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body?.cancel();
    // A collector holding the queue's lease (as `monitor run` would), but no record stored.
    const db = await openStore({ dataDir: join(dir, 'pass', 'data') });
    const queue = `resp://${new URL(cpa!.url).hostname}:${new URL(cpa!.url).port}/usage`;
    assert.ok(await new LeaseStore(db).acquire(leaseNameFor(queue), 'other-host:42', 120_000));
    await db.close();
    const second = await doctor('pass');
    const collector = byId(second.report, 'collector.running')!;
    assert.equal(collector.status, 'ok');
    assert.match(collector.message, /other-host:42 holds the lease/);
    assert.equal(byId(second.report, 'monitoring.records_flow')?.status, 'warning', 'published records never arrived');
    assert.equal(byId(second.report, 'cpa.traffic')?.status, 'ok');
    assert.equal(byId(second.report, 'cpa.auth_index_stable')?.status, 'ok');
    assert.match(byId(second.report, 'cpa.auth_index_stable')!.message, /unchanged/);
  });

  it('usage statistics disabled in the config file: publishing fails, exit 1', async (t) => {
    if (skip) return t.skip(skip);
    const config = join(cpa!.workDir, 'config.yaml');
    const original = await readFile(config, 'utf8');
    try {
      await writeFile(config, original.replace('usage-statistics-enabled: true', 'usage-statistics-enabled: false'));
      // CPA watches its config file; wait until the management API reports the change.
      await waitFor(
        async () => {
          const r = await fetch(`${cpa!.url}/v0/management/usage-statistics-enabled`, {
            headers: { Authorization: `Bearer ${cpa!.key}` },
          });
          const body = (await r.json()) as { 'usage-statistics-enabled'?: boolean };
          return { ok: body['usage-statistics-enabled'] === false, seen: body };
        },
        { what: 'CPA to reload its config with usage statistics off', intervalMs: 200 },
      );
      const { code, report } = await doctor('pass');
      assert.equal(code, 1);
      const publishing = byId(report, 'cpa.usage_publishing')!;
      assert.equal(publishing.status, 'failed');
      assert.match(publishing.fix ?? '', /usage-statistics-enabled: true/);
      assert.equal(report.emptyMonitoring.find((c) => c.id === 'usage_statistics_disabled')?.status, 'failed');
    } finally {
      await writeFile(config, original);
    }
  });

  it('a moved auth dir changes auth_index: a warning that history would split', async (t) => {
    if (skip) return t.skip(skip);
    // The store of the passing run, with the map a run against an older auth dir would have left.
    await cp(join(dir, 'pass'), join(dir, 'moved'), { recursive: true });
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'moved', 'data', 'codex-fleet.db'));
    const row = db.prepare("SELECT value FROM settings WHERE key = 'doctor.authIndexes'").get() as { value: string };
    const map = JSON.parse(row.value) as Record<string, Record<string, string>>;
    for (const file of Object.keys(map.main)) map.main[file] = '0000000000000000';
    db.prepare("UPDATE settings SET value = ? WHERE key = 'doctor.authIndexes'").run(JSON.stringify(map));
    db.close();
    const { report } = await doctor('moved');
    const stable = byId(report, 'cpa.auth_index_stable')!;
    assert.equal(stable.status, 'warning');
    assert.match(stable.message, /auth dir probably moved/);
  });

  it('wrong key: one call, failed with the fix; a second run sends nothing', async (t) => {
    if (skip) return t.skip(skip);
    await addServer('wrong', 'definitely-not-the-key');
    const first = await doctor('wrong', join(dir, 'no-codex-here'));
    const cli = byId(first.report, 'codex_cli.available')!;
    assert.equal(cli.status, 'warning', 'a missing Codex CLI is a warning, not a failure');
    assert.match(cli.fix ?? '', /CODEX_CLI_BIN/);
    assert.equal(first.code, 1);
    const reachable = byId(first.report, 'cpa.reachable')!;
    assert.equal(reachable.status, 'failed');
    assert.match(reachable.fix ?? '', /management key/);
    assert.equal(byId(first.report, 'cpa.usage_publishing'), undefined, 'nothing else was tried with a bad key');
    assert.equal(first.report.emptyMonitoring.find((c) => c.id === 'wrong_key_or_port')?.status, 'failed');
    assert.ok(!first.stdout.includes('definitely-not-the-key'));

    const second = await doctor('wrong');
    assert.equal(second.code, 1);
    assert.match(byId(second.report, 'cpa.reachable')!.message, /401|breaker|rejected|key/i);
    // The right key still works from this IP: the bad key was sent once, far from CPA's ban at 5.
    const ok = await fetch(`${cpa!.url}/v0/management/auth-files`, {
      headers: { Authorization: `Bearer ${cpa!.key}` },
    });
    assert.equal(ok.status, 200);
  });
});
