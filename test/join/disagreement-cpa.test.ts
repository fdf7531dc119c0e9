// Issue 20 against the real CPA: accounts held by CPA, usage records keyed by those files' auth_index
// (ingested the way `monitor import` and the collector commit them). (a) probe says ok, requests say
// 429 usage_limit_reached → disagreement within one batch, re-probe, the account ends exhausted as the
// re-probe finds; (b) probe says exhausted, requests succeed → re-probe → ok.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { isCpaAccount } from '../../src/core/cpa-accounts.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';
import { runCli } from '../support/cli.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';

let sim: Simulator;
let cpa: StartedCpa | null = null;
let skip: string | null = null;
let dir: string;
let core: FleetService | null = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-join-'));
  sim = await startSimulator({
    accounts: [
      { scenario: 'healthy', name: 'busy', email: 'busy@example.test', burnRatePerHour: 0 },
      { scenario: 'exhausted', name: 'back', email: 'back@example.test', burnRatePerHour: 0 },
    ],
  });
  await mkdir(join(dir, 'account'), { recursive: true });
  const started = await tryStartCpa();
  if ('skip' in started) {
    skip = started.skip;
    return;
  }
  cpa = started;
  for (const a of sim.accounts) {
    await writeFile(join(cpa.authDir, `${a.name}.json`), JSON.stringify(cpaFile(a, { farExpiry: true })), {
      mode: 0o600,
    });
  }
  await waitForAuthFiles(
    cpa,
    sim.accounts.map((a) => `${a.name}.json`),
    { timeoutMs: 30_000 },
  );
  const added = await runCli(['cpa', 'add', 'main', cpa.url, '--data-dir', join(dir, 'data')], {
    env: {
      CODEX_FLEET_CHATGPT_URL: sim.chatgptUrl,
      CODEX_FLEET_AUTH_URL: sim.authUrl,
      CODEX_FLEET_ACCOUNT_DIR: join(dir, 'account'),
      CODEX_FLEET_CPA_KEY: cpa.key,
    },
  });
  assert.equal(added.code, 0, added.stderr);
  const config = resolveConfig(
    { dataDir: join(dir, 'data'), accountDir: join(dir, 'account'), chatgptUrl: sim.chatgptUrl, retries: 0 },
    {},
  );
  core = await createFleetService({ config, background: false });
});

after(async () => {
  await core?.close();
  await cpa?.stop();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

function skipped(t: { skip(message: string): void }): boolean {
  if (!skip) return false;
  if (process.env.CI === 'true') assert.fail(`the real CPA is required in CI: ${skip}`);
  t.skip(skip);
  return true;
}

let seq = 0;
function record(authIndex: string, ok: boolean): Record<string, unknown> {
  seq++;
  return {
    timestamp: new Date(Date.now() + 1).toISOString(),
    latency_ms: 300,
    source: 'someone@example.test',
    auth_index: authIndex,
    tokens: { input_tokens: 1000, output_tokens: ok ? 200 : 0, total_tokens: ok ? 1200 : 1000 },
    failed: !ok,
    fail: ok
      ? { status_code: 0, body: '' }
      : {
          status_code: 429,
          body: '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached for sk-abcdefghijklmnopqrstuvwx"}}',
        },
    provider: 'codex',
    executor_type: 'codex',
    model: 'gpt-5-codex',
    endpoint: '/v1/responses',
    auth_type: 'oauth',
    api_key: 'sk-client-0001-abcdefghijkl',
    request_id: `join-${seq}`,
  };
}

async function cpaAccount(name: string) {
  const { accounts } = await core!.fleet.accounts();
  const found = accounts.find((a) => a.name === name);
  assert.ok(found && isCpaAccount(found) && found.cpa.authIndex, `CPA lists ${name} with its auth_index`);
  return { id: found.id, authIndex: found.cpa.authIndex };
}

describe('requests through CPA beside the probe (real CPA)', () => {
  it('(a) probe ok, then repeated 429 usage_limit_reached: disagreement, re-probe, exhausted', async (t) => {
    if (skipped(t)) return;
    const { id, authIndex } = await cpaAccount('busy');
    assert.equal((await core!.getAccount(id))?.state, 'ok', 'the probe says ok first');
    sim.setScenario('busy@example.test', 'exhausted');
    await core!.monitor!.service.ingest.ingestRaw(Array.from({ length: 8 }, () => record(authIndex, false)));
    await core!.requestOutcomes!.settled();
    const view = await core!.getAccount(id);
    const d = view?.requests?.disagreement;
    assert.equal(d?.kind, 'usable_but_quota_failures', JSON.stringify(view?.requests));
    assert.equal(d?.probeState, 'ok');
    assert.ok(d?.reprobedAt, 're-probed at once');
    assert.equal(d?.reprobeState, 'exhausted', 'the re-probe found it exhausted');
    assert.equal(view?.state, 'exhausted', 'the account ends in the state the re-probe found');
    assert.equal(view?.disabled, false, 'nothing was done to the account');
    assert.equal(view?.requests?.lastHour.requests, 8);
    assert.equal(view?.requests?.lastHour.failuresByStatus['429'], 8);
    assert.equal(view?.requests?.lastHour.failuresByType.usage_limit_reached, 8);
    assert.equal(view?.requests?.lastFailure?.status, 429);
    assert.doesNotMatch(JSON.stringify(view), /sk-abcdefghijklmnop/, 'the failure summary is sanitized');

    // The Inspection results carry the request outcomes beside the probe's answer.
    const run = await core!.inspect('tester');
    const result = run.results.find((r) => r.accountId === id);
    assert.equal(result?.state, 'exhausted');
    assert.equal(result?.evidence.requests?.lastHour.failuresByStatus['429'], 8);
    assert.equal(result?.evidence.requests?.disagreement?.kind, 'usable_but_quota_failures');
    assert.doesNotMatch(JSON.stringify(result), /sk-abcdefghijklmnop/);
  });

  it('(b) probe exhausted, then successful requests: disagreement, re-probe, ok', async (t) => {
    if (skipped(t)) return;
    const { id, authIndex } = await cpaAccount('back');
    assert.equal((await core!.getAccount(id))?.state, 'exhausted', 'the probe says exhausted first');
    sim.setScenario('back@example.test', 'healthy');
    await core!.monitor!.service.ingest.ingestRaw(Array.from({ length: 4 }, () => record(authIndex, true)));
    await core!.requestOutcomes!.settled();
    const view = await core!.getAccount(id);
    const d = view?.requests?.disagreement;
    assert.equal(d?.kind, 'exhausted_but_succeeding', JSON.stringify(view?.requests));
    assert.equal(d?.reprobeState, 'ok');
    assert.equal(view?.state, 'ok', 'the account ends in the state the re-probe found');
    assert.equal(view?.requests?.lastHour.requests, 4);
    assert.equal(view?.requests?.lastHour.failures, 0);
    assert.ok((view?.requests?.lastHour.tokens ?? 0) >= 4800);
  });
});
