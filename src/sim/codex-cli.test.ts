// The real Codex CLI (0.169.0) as a client of the simulator: its strict decoder accepts our usage
// payload and tokens, and its refresh goes through our rotating token endpoint.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { codexCliMissing } from '../../test/support/real-server.ts';
import { classifyUpstreamAnswer } from '../upstream/classify.ts';
import { classifyAppServerError, snapshotFromRateLimits } from '../upstream/codex-cli-probe.ts';
import { type ScenarioName, type Simulator, startSimulator } from './index.ts';
import type { Json } from './test-json.ts';

const BIN = join(
  import.meta.dirname,
  '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
);
const skip = codexCliMissing(BIN);

/** Issue 19's rows as the real CLI reads them, with the state codex-fleet must derive from its answer. */
const ISSUE_19: [ScenarioName, string, string][] = [
  // The CLI (0.169.0) refuses workspace plans before any request ("application network policy is
  // unavailable"): codex-fleet reads that as unknown and transient, so the state never changes on it.
  ['business-spend-control', 'unknown', 'unexpected_status'],
  ['enterprise-unlimited', 'unknown', 'unexpected_status'],
  ['inexact-windows', 'ok', 'quota_available'],
  ['go-monthly', 'ok', 'quota_available'],
  ['account-banned', 'blocked', 'account_blocked'],
];

let sim: Simulator;
let home: string;
before(async () => {
  sim = await startSimulator({
    accounts: [
      { scenario: 'healthy' },
      { scenario: 'expired-token' },
      { scenario: 'code-review-additional' },
      ...ISSUE_19.map(([scenario]) => ({ scenario })),
    ],
  });
});
after(async () => {
  await sim.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Writes a CODEX_HOME for one account, runs `account/rateLimits/read`, returns the RPC answer. */
async function readRateLimits(index: number): Promise<{ answer: Json; authJson: Json }> {
  home = await mkdtemp(join(tmpdir(), 'sim-codex-cli-'));
  await sim.writeAuthFiles(home, 'codex-cli');
  // One file per account was written; the one under test becomes CODEX_HOME/auth.json.
  await rename(join(home, `${sim.accounts[index].name}.json`), join(home, 'auth.json'));
  await writeFile(join(home, 'config.toml'), `chatgpt_base_url = "${sim.chatgptUrl}/"\n`);
  const child = spawn(BIN, ['app-server'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CODEX_HOME: home, CODEX_REFRESH_TOKEN_URL_OVERRIDE: sim.authUrl },
  });
  child.stderr.resume();
  const lines = createInterface({ input: child.stdout });
  const answers = new Map<number, (m: Json) => void>();
  lines.on('line', (line) => {
    try {
      const msg = JSON.parse(line);
      if (typeof msg.id === 'number' && answers.has(msg.id)) answers.get(msg.id)!(msg);
    } catch {}
  });
  const call = (id: number, method: string, params: unknown) =>
    new Promise<Json>((resolve, reject) => {
      // A bound so a CLI that never answers fails the test instead of hanging the suite.
      const timer = setTimeout(() => reject(new Error(`codex app-server did not answer ${method}`)), 60_000);
      answers.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  try {
    await call(0, 'initialize', {
      clientInfo: { name: 'sim_test', title: 'sim test', version: '0.0.1' },
      capabilities: null,
    });
    child.stdin.write(`${JSON.stringify({ method: 'initialized' })}\n`);
    const answer = await call(1, 'account/rateLimits/read', {});
    return { answer, authJson: JSON.parse(await readFile(join(home, 'auth.json'), 'utf8')) };
  } finally {
    child.kill('SIGTERM');
    await rm(home, { recursive: true, force: true });
  }
}

test('the real Codex CLI decodes the usage payload', { skip }, async () => {
  const { answer } = await readRateLimits(0);
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  const limits = answer.result.rateLimits;
  assert.equal(limits.planType, 'plus');
  assert.equal(limits.primary.usedPercent, 12);
  assert.equal(limits.primary.windowDurationMins, 300);
  assert.equal(limits.secondary.windowDurationMins, 10080);
  assert.equal(typeof limits.primary.resetsAt, 'number');
  assert.equal(limits.credits.balance, '0');
  assert.equal(sim.stats().requests['/backend-api/wham/usage']['200'], 1);
});

test('the real Codex CLI refreshes an expired token through the simulator', { skip }, async () => {
  const before = sim.stats().refreshes;
  const account = sim.accounts[1];
  const { answer, authJson } = await readRateLimits(1);
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  assert.equal(answer.result.rateLimits.planType, 'plus');
  assert.equal(sim.stats().refreshes, before + 1);
  assert.equal(authJson.tokens.refresh_token, account.refreshToken, 'the CLI wrote back the rotated token');
});

test('the real Codex CLI reads additional limits', { skip }, async () => {
  const { answer } = await readRateLimits(2);
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  assert.ok(Object.keys(answer.result.rateLimitsByLimitId).length >= 2);
});

test('the real Codex CLI reads the issue 19 rows; codex-fleet derives the same state as over HTTP', {
  skip,
}, async () => {
  for (const [scenario, state, reason] of ISSUE_19) {
    const index = sim.accounts.findIndex((a) => a.scenario === scenario);
    const { answer } = await readRateLimits(index);
    const now = Date.now();
    const got = answer.error
      ? classifyAppServerError(String(answer.error.message), sim.accounts[index].accessToken, now)
      : classifyUpstreamAnswer({ status: 200, snapshot: snapshotFromRateLimits(answer.result, now), now });
    assert.deepEqual(
      [got.state, got.reason],
      [state, reason],
      `${scenario}: ${JSON.stringify(answer.error ?? answer.result)}`,
    );
    if (state === 'unknown') assert.equal(got.transient, true, `${scenario}: says nothing about the account`);
    if (scenario === 'inexact-windows' || scenario === 'go-monthly') {
      const kinds = got.snapshot?.windows.map((w) => w.kind);
      assert.deepEqual(kinds, scenario === 'go-monthly' ? ['monthly'] : ['5h', 'weekly']);
    }
  }
});
