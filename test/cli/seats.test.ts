// One Team workspace, three seats (one exhausted) through the simulator: every face shows three accounts
// with their own windows and states, the workspace on each; disabling one seat leaves the others alone
// and the audit row names the seat; a stale copy of a seat never hides the live file. The same through
// the real CPA: three seats inspected, applying disables only the exhausted one.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tokenHash } from '../../src/accounts/refresh-journal.ts';
import { ActionsRepo } from '../../src/actions/actions-repo.ts';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
import { runInspection } from '../../src/core/inspection-run.ts';
import type { QuotaRow } from '../../src/core/quota-rows.ts';
import { CpaServers } from '../../src/cpa/servers.ts';
import type { HealthReport } from '../../src/domain/report.ts';
import { startServer } from '../../src/server/serve.ts';
import type { AccountView, FleetService } from '../../src/server/service.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import {
  readScenarioFile,
  type Simulator,
  startSimulator,
  TEAM_WORKSPACE_ID,
  teamWorkspaceAccounts,
} from '../../src/sim/index.ts';
import { mintTokens } from '../../src/sim/tokens.ts';
import { REPO_ROOT, runCli } from '../support/cli.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';

const ADMIN_KEY = 'seats-test-admin-key-0123456789abcdef';
const SEATS = ['seat1@team.example.test', 'seat2@team.example.test', 'seat3@team.example.test'];
const fileOf = (email: string) => `codex-${email}.json`;

let sim: Simulator;
let dir: string;
const accountDir = () => join(dir, 'account');
const args = (dataDir = 'data') => [
  '--account-dir',
  accountDir(),
  '--data-dir',
  join(dir, dataDir),
  '--chatgpt-url',
  sim.chatgptUrl,
  '--auth-url',
  sim.authUrl,
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-seats-'));
  sim = await startSimulator({ accounts: teamWorkspaceAccounts(), latency: 0 });
  await sim.writeAuthFiles(accountDir(), 'cpa');
});
after(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('one Team workspace with three seats', () => {
  it('the example scenario file plays the same seats (codex-fleet sim --scenario-file src/sim/examples/team-seats.json)', async () => {
    const setup = await readScenarioFile(join(REPO_ROOT, 'src/sim/examples/team-seats.json'));
    assert.deepEqual(setup.accounts, teamWorkspaceAccounts());
  });

  let rows: QuotaRow[];

  it('quota --json: three rows, one workspace, each seat its own windows and state', async () => {
    const run = await runCli(['quota', '--json', ...args()]);
    assert.equal(run.code, 0, run.stderr);
    rows = JSON.parse(run.stdout);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.email).sort(), SEATS);
    for (const r of rows)
      assert.equal(r.accountId, TEAM_WORKSPACE_ID, 'the workspace is what ChatGPT-Account-Id carries');
    assert.equal(new Set(rows.map((r) => r.id)).size, 3, 'one id per seat');
    const by = (email: string) => rows.find((r) => r.email === email)!;
    assert.equal(by(SEATS[0]).state, 'ok');
    assert.equal(by(SEATS[1]).state, 'ok');
    assert.equal(by(SEATS[2]).state, 'exhausted');
    const left5h = (r: QuotaRow) => r.windows.find((w) => w.kind === '5h')?.remainingPercent;
    assert.equal(left5h(by(SEATS[0])), 88);
    assert.equal(left5h(by(SEATS[1])), 36);
  });

  it('quota (table): a workspace column when seats share one, each seat on its own row', async () => {
    const run = await runCli(['quota', ...args()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /│ workspace +│/);
    for (const email of SEATS) {
      assert.match(run.stdout, new RegExp(`codex-${email.replace(/\./g, '\\.')} +│ ${TEAM_WORKSPACE_ID} `));
    }
  });

  it('report --json: three entries, accountId is the workspace on each, statuses of their own', async () => {
    const run = await runCli(['report', '--json', ...args()]);
    assert.equal(run.code, 0, run.stderr);
    const report: HealthReport = JSON.parse(run.stdout);
    assert.equal(report.accounts.length, 3);
    assert.deepEqual(report.accounts.map((a) => a.email).sort(), SEATS);
    for (const a of report.accounts) assert.equal(a.accountId, TEAM_WORKSPACE_ID);
    const seat3 = report.accounts.find((a) => a.email === SEATS[2])!;
    assert.equal(seat3.status, 'rate-limited');
    assert.equal(seat3.rateLimited, true);
    for (const email of SEATS.slice(0, 2)) {
      assert.notEqual(report.accounts.find((a) => a.email === email)!.status, 'rate-limited');
    }
  });

  it('report (text): a flagged seat is listed as flagged alone, the other seats stay active', async () => {
    const fleet = await Fleet.open(
      resolveConfig({ accountDir: accountDir(), dataDir: join(dir, 'data'), chatgptUrl: sim.chatgptUrl }, {}),
    );
    const seat3 = rows.find((r) => r.email === SEATS[2])!;
    try {
      await fleet.repos.flags.flag(seat3.id, 'refresh_token_reused');
    } finally {
      await fleet.close();
    }
    const run = await runCli(['report', ...args()]);
    assert.equal(run.code, 0, run.stderr);
    const [active, rest] = run.stdout.split('Flagged Accounts');
    const flagged = rest.split('Recommendation')[0];
    for (const email of SEATS.slice(0, 2)) assert.match(active, new RegExp(email.replace(/\./g, '\\.')));
    assert.doesNotMatch(active, /seat3@/);
    assert.match(flagged, /seat3@team\.example\.test {2}refresh_token_reused/);
    assert.doesNotMatch(flagged, /seat1@|seat2@/);
    const clear = await Fleet.open(
      resolveConfig({ accountDir: accountDir(), dataDir: join(dir, 'data'), chatgptUrl: sim.chatgptUrl }, {}),
    );
    await clear.repos.flags.clear(seat3.id).finally(() => clear.close());
  });

  it('inspect --json: three results with their own states', async () => {
    const run = await runCli(['inspect', '--json', ...args()]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { results: Array<{ accountId: string; accountName: string; state: string }> };
    assert.equal(out.results.length, 3);
    assert.equal(new Set(out.results.map((r) => r.accountId)).size, 3);
    const state = (email: string) => out.results.find((r) => r.accountName === `codex-${email}`)?.state;
    assert.equal(state(SEATS[2]), 'exhausted');
    assert.equal(state(SEATS[0]), 'ok');
    assert.equal(state(SEATS[1]), 'ok');
  });

  describe('the core behind /api/accounts and /metrics', () => {
    let service: FleetService;
    before(async () => {
      const config = resolveConfig(
        { accountDir: accountDir(), dataDir: join(dir, 'data'), chatgptUrl: sim.chatgptUrl, authUrl: sim.authUrl },
        {},
      );
      service = await createFleetService({ config, background: false });
    });
    after(() => service?.close());

    it('three account views, each with the seat email and the workspace; metrics labels unique', async () => {
      const views = await service.listAccounts();
      assert.equal(views.length, 3);
      assert.deepEqual(views.map((v) => v.email).sort(), SEATS);
      for (const v of views) assert.equal(v.workspaceId, TEAM_WORKSPACE_ID);
      assert.equal(views.find((v) => v.email === SEATS[2])!.status, 'rate-limited');
      const metrics = (await service.metrics()).body;
      const ids = [...metrics.matchAll(/^codex_fleet_account_health_score\{account_id="([^"]+)"/gm)].map((m) => m[1]);
      assert.equal(ids.length, 3, metrics.slice(0, 400));
      assert.equal(new Set(ids).size, 3);
    });

    it('disabling one seat leaves the other seats untouched; the audit row names the seat', async () => {
      const before = await Promise.all(SEATS.map((e) => readFile(join(accountDir(), fileOf(e)), 'utf8')));
      const seat2 = (await service.listAccounts()).find((v) => v.email === SEATS[1])!;
      const view = await service.setAccountDisabled(seat2.id, true, 'tester');
      assert.equal(view.disabled, true);
      const afterTexts = await Promise.all(SEATS.map((e) => readFile(join(accountDir(), fileOf(e)), 'utf8')));
      assert.equal(afterTexts[0], before[0], 'seat 1 file unchanged');
      assert.equal(afterTexts[2], before[2], 'seat 3 file unchanged');
      assert.equal(JSON.parse(afterTexts[1]).disabled, true);
      const views = await service.listAccounts();
      assert.deepEqual(
        views.filter((v) => v.disabled).map((v) => v.email),
        [SEATS[1]],
      );
      const [audit] = await service.listAudit(1);
      assert.equal(audit.accountId, seat2.id);
      assert.equal(audit.accountName, `codex-${SEATS[1]}`);
      assert.match(audit.result, /^ok/);
      await service.setAccountDisabled(seat2.id, false, 'tester');
    });

    // Last: closing the server closes the service too.
    it('over HTTP: /api/accounts lists three seats, each one addressable by its id', async () => {
      const server = await startServer({
        host: '127.0.0.1',
        port: 0,
        service,
        dataDir: join(dir, 'data'),
        env: { CODEX_FLEET_ADMIN_KEY: ADMIN_KEY },
        log: () => {},
      });
      try {
        const get = (path: string) => fetch(`${server.url}${path}`, { headers: { 'X-Admin-Key': ADMIN_KEY } });
        const list = (await (await get('/api/accounts')).json()) as { accounts: AccountView[] };
        assert.equal(list.accounts.length, 3);
        for (const v of list.accounts) {
          assert.equal(v.workspaceId, TEAM_WORKSPACE_ID);
          const one = await get(`/api/accounts/${encodeURIComponent(v.id)}`);
          assert.equal(one.status, 200, v.id);
          assert.equal(((await one.json()) as { account: AccountView }).account.email, v.email);
        }
        const metrics = await (await get('/metrics')).text();
        assert.equal([...metrics.matchAll(/^codex_fleet_account_health_score\{/gm)].length, 3);
      } finally {
        await server.close();
      }
    });
  });

  it('a stale copy of a seat read first never hides the live file: warned naming both, exit 1', async () => {
    const live = sim.accounts.find((a) => a.email === SEATS[0])!;
    const now = Math.floor(sim.now() / 1000);
    // An older pair of the same seat whose refresh token the simulator no longer knows.
    const old = mintTokens(
      { accountId: live.id, userId: live.userId, email: live.email, plan: live.plan },
      now - 2 * 86_400,
      now - 3600,
    );
    const stale = join(accountDir(), 'a-stale-copy.json');
    await writeFile(
      stale,
      JSON.stringify({
        type: 'codex',
        email: live.email,
        id_token: old.idToken,
        access_token: old.accessToken,
        refresh_token: old.refreshToken,
        account_id: live.id,
        last_refresh: new Date((now - 2 * 86_400) * 1000).toISOString(),
      }),
      { mode: 0o600 },
    );
    try {
      const run = await runCli(['quota', '--json', ...args('data-dup')]);
      assert.equal(run.code, 1, 'a file that was not used makes quota exit 1, like any skipped file');
      const rows: QuotaRow[] = JSON.parse(run.stdout);
      assert.equal(rows.length, 3);
      assert.equal(rows.find((r) => r.email === SEATS[0])!.state, 'ok', 'the live file was used');
      assert.match(run.stderr, /a-stale-copy\.json holds the same seat \(seat1@team\.example\.test/);
      assert.match(run.stderr, new RegExp(`using ${join(accountDir(), fileOf(SEATS[0])).replace(/[.]/g, '\\.')}`));
      assert.doesNotMatch(run.stderr, new RegExp(old.refreshToken));
    } finally {
      await rm(stale);
    }
  });
});

describe('a newer copy whose refresh token its journal marks dead', () => {
  it('loses to the live file (the journal decides, not the dates)', async () => {
    const live = sim.accounts.find((a) => a.email === SEATS[1])!;
    const now = Math.floor(sim.now() / 1000);
    const newer = mintTokens(
      { accountId: live.id, userId: live.userId, email: live.email, plan: live.plan },
      now,
      now + 20 * 86_400,
    );
    const copy = join(accountDir(), 'b-copy.json');
    await writeFile(
      copy,
      JSON.stringify({
        type: 'codex',
        email: live.email,
        access_token: newer.accessToken,
        refresh_token: newer.refreshToken,
        account_id: live.id,
      }),
      { mode: 0o600 },
    );
    await writeFile(
      join(accountDir(), '.b-copy.json.refresh-journal'),
      JSON.stringify({
        [tokenHash(newer.refreshToken)]: { state: 'dead', at: new Date().toISOString(), code: 'refresh_token_reused' },
      }),
      { mode: 0o600 },
    );
    try {
      const run = await runCli(['quota', '--json', ...args('data-dead')]);
      assert.equal(run.code, 1);
      assert.match(
        run.stderr,
        /b-copy\.json holds the same seat \(seat2@team\.example\.test.*because the other copy's refresh token is dead/,
      );
      const rows: QuotaRow[] = JSON.parse(run.stdout);
      assert.equal(rows.length, 3);
      assert.equal(rows.find((r) => r.email === SEATS[1])!.state, 'ok', 'the live file was used');
    } finally {
      await rm(copy);
      await rm(join(accountDir(), '.b-copy.json.refresh-journal'));
    }
  });
});

describe('the same three seats through the real CPA', { timeout: 120_000 }, () => {
  let cpa: StartedCpa | null = null;
  let skip: string | null = null;
  let cpaDir: string;
  let fleet: Fleet;

  const cpaFiles = async () => {
    const res = await fetch(`${cpa!.url}/v0/management/auth-files`, {
      headers: { Authorization: `Bearer ${cpa!.key}` },
    });
    const body = (await res.json()) as { files: Array<{ name: string; disabled: boolean }> };
    return new Map(body.files.map((f) => [f.name, f.disabled]));
  };

  before(async () => {
    const started = await tryStartCpa();
    if ('skip' in started) {
      if (process.env.CI === 'true') throw new Error(started.skip);
      skip = started.skip;
      return;
    }
    cpa = started;
    for (const account of sim.accounts) {
      await writeFile(join(cpa.authDir, fileOf(account.email)), JSON.stringify(cpaFile(account, { farExpiry: true })), {
        mode: 0o600,
      });
    }
    await waitForAuthFiles(
      cpa,
      SEATS.map((e) => fileOf(e)),
      { timeoutMs: 30_000 },
    );
    cpaDir = await mkdtemp(join(tmpdir(), 'cf-seats-cpa-'));
    // No local accounts: an empty account directory (a named one that is missing is an error).
    await mkdir(join(cpaDir, 'none'));
    const config = resolveConfig(
      { dataDir: join(cpaDir, 'data'), accountDir: join(cpaDir, 'none'), chatgptUrl: sim.chatgptUrl, retries: 1 },
      {},
    );
    fleet = await Fleet.open(config, () => sim.now());
    const added = await new CpaServers(fleet.repos.settings).upsert({
      name: 'local',
      url: cpa.url,
      managementKey: cpa.key,
    });
    assert.ok(added.ok, 'CPA server registered');
  });
  after(async () => {
    await fleet?.close();
    await cpa?.stop();
    if (cpaDir) await rm(cpaDir, { recursive: true, force: true });
  });

  it('inspect: three seats with their own states; applying disables only the exhausted seat, audited by name', async (t) => {
    if (skip) return t.skip(skip);
    const outcome = await runInspection(fleet, {
      trigger: 'manual',
      source: 'cpa:local',
      actor: 'person:tester',
      apply: true,
    });
    assert.equal(outcome.results.length, 3);
    assert.equal(new Set(outcome.results.map((r) => r.accountId)).size, 3);
    const state = (email: string) => outcome.results.find((r) => r.accountName === `codex-${email}`)?.state;
    assert.deepEqual(SEATS.map(state), ['ok', 'ok', 'exhausted']);
    const files = await cpaFiles();
    assert.deepEqual(
      SEATS.map((e) => files.get(fileOf(e))),
      [false, false, true],
      'only the exhausted seat is disabled in CPA',
    );
    const audit = await new ActionsRepo(fleet.repos.db).auditLog(10);
    const disables = audit.filter((r) => r.action === 'Disable');
    assert.equal(disables.length, 1);
    assert.equal(disables[0].accountName, `codex-${SEATS[2]}`);
    assert.equal(disables[0].accountId, `cpa:local:${fileOf(SEATS[2])}`);
    assert.match(disables[0].result, /^ok/);
  });
});
