// One core, one answer: for every simulator scenario, with the accounts in local auth files and on the
// REAL CPA, and with either usage path retired, `quota --json`, `report --json`, `inspect --json`,
// GET /api/accounts and /metrics agree on each account's state, and the suggested action follows from
// it (an account that needs a new sign-in gets Reauth, never Keep). The CLI runs as a real process;
// the server runs on the real core over the same store.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import type { HealthReport } from '../../src/domain/report.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type RetiredPath, SCENARIO_NAMES, type Simulator, startSimulator } from '../../src/sim/index.ts';
import { runCli } from '../support/cli.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';

type J = Record<string, any>;
/** States that mean "a person must sign in again": the action is Reauth, never Keep. */
const NEEDS_SIGN_IN = new Set(['auth_invalid']);

/** An account whose access token has expired and whose file holds no refresh token: only a sign-in helps. */
const NO_REFRESH = 's-no-refresh-token';
const ACCOUNT_COUNT = SCENARIO_NAMES.length + 1;

const MODES: Array<{ label: string; retired: RetiredPath }> = [
  { label: '/wham retired', retired: { path: '/wham', status: 404 } },
  { label: '/codex retired', retired: { path: '/codex', status: 404 } },
];

for (const home of ['local', 'cpa'] as const) {
  for (const mode of MODES) {
    describe(`every scenario agrees across quota, report, inspect, API and metrics (${home}, ${mode.label})`, () => {
      let sim: Simulator;
      let cpa: StartedCpa | null = null;
      let skip: string | null = null;
      let dir: string;
      let flags: string[];
      let env: NodeJS.ProcessEnv;

      before(async () => {
        dir = await mkdtemp(join(tmpdir(), `cf-consistency-${home}-`));
        sim = await startSimulator({
          accounts: [
            ...SCENARIO_NAMES.map((scenario) => ({
              scenario,
              name: `s-${scenario}`,
              email: `s-${scenario}@example.test`,
            })),
            { scenario: 'expired-token' as const, name: NO_REFRESH, email: `${NO_REFRESH}@example.test` },
          ],
          retiredPaths: [mode.retired],
        });
        const accountDir = join(dir, 'account');
        await mkdir(accountDir, { recursive: true });
        flags = [
          '--data-dir',
          join(dir, 'data'),
          '--account-dir',
          accountDir,
          '--chatgpt-url',
          sim.chatgptUrl,
          '--auth-url',
          sim.authUrl,
        ];
        env = { CODEX_FLEET_CHATGPT_URL: sim.chatgptUrl, CODEX_FLEET_AUTH_URL: sim.authUrl };
        const probeFlags = ['--retries', '0', '--timeout-ms', '3000'];
        if (home === 'local') {
          for (const a of sim.accounts) {
            const file = a.name === NO_REFRESH ? { ...cpaFile(a), refresh_token: '' } : cpaFile(a);
            await writeFile(join(accountDir, `${a.name}.json`), JSON.stringify(file), { mode: 0o600 });
          }
        } else {
          const started = await tryStartCpa();
          if ('skip' in started) {
            skip = started.skip;
            return;
          }
          cpa = started;
          const names: string[] = [];
          for (const a of sim.accounts) {
            // Far expiry: CPA must never try to refresh against a real (non-loopback) token endpoint.
            // The no-refresh account keeps its past expiry: without a refresh token CPA cannot refresh it.
            const file = a.name === NO_REFRESH ? { ...cpaFile(a), refresh_token: '' } : cpaFile(a, { farExpiry: true });
            await writeFile(join(cpa.authDir, `${a.name}.json`), JSON.stringify(file), { mode: 0o600 });
            names.push(`${a.name}.json`);
          }
          await waitForAuthFiles(cpa, names, { timeoutMs: 30_000 });
          const added = await runCli(['cpa', 'add', 'main', cpa.url, '--data-dir', join(dir, 'data')], {
            env: { ...env, CODEX_FLEET_CPA_KEY: cpa.key, CODEX_AUTH_FETCH_TIMEOUT_MS: '3000' },
          });
          assert.equal(added.code, 0, added.stderr);
        }
        flags.push(...probeFlags);
      });

      after(async () => {
        await cpa?.stop();
        await sim?.close();
        await rm(dir, { recursive: true, force: true });
      });

      it('agrees on each account, and the action follows the state', async (t) => {
        if (skip) {
          if (process.env.CI === 'true') assert.fail(`the real CPA is required in CI: ${skip}`);
          t.skip(skip);
          return;
        }
        const json = async (args: string[]) => {
          const run = await runCli([...args, '--json'], { env });
          assert.ok(
            run.stdout.trim().startsWith('[') || run.stdout.trim().startsWith('{'),
            `${args[0]}: ${run.stderr}`,
          );
          return JSON.parse(run.stdout);
        };
        const quota: J[] = await json(['quota', ...flags]);
        assert.equal(quota.length, ACCOUNT_COUNT, 'quota lists every account');
        // A row answered from the cache says source "cache"; where the account lives is the API's sourceKind.
        const report: HealthReport = await json(['report', ...flags.filter((f, i) => !isProbeFlag(flags, i, f))]);

        const { core, server } = await serve(dir, sim);
        try {
          const api = (await (await fetch(`${server.url}/api/accounts`)).json()) as { accounts: J[] };
          const metrics = await (await fetch(`${server.url}/metrics`)).text();
          assert.equal(api.accounts.length, ACCOUNT_COUNT);
          const byName = new Map(api.accounts.map((a) => [a.name, a]));
          for (const row of quota) {
            const view = byName.get(row.name);
            assert.ok(view, `the API lists ${row.name}`);
            assert.equal(view.sourceKind === 'cpa', home === 'cpa');
            assert.equal(view.state, row.state, `${row.name}: API state ${view.state}, quota ${row.state}`);
            const inReport = report.accounts.find((r) => r.email === view.email);
            assert.ok(inReport, `the report lists ${row.name}`);
            if (view.status !== 'unknown') {
              assert.equal(inReport.status, view.status, `${row.name}: report ${inReport.status}, API ${view.status}`);
            }
            const line = new RegExp(
              `codex_fleet_account_status\\{[^}]*account_id="${escapeRegExp(view.id)}"[^}]*status="([a-z-]+)"[^}]*\\} 1`,
            ).exec(metrics);
            assert.ok(line, `/metrics has ${row.name}'s status`);
            assert.equal(line[1], inReport.status, `${row.name}: metrics ${line[1]}, report ${inReport.status}`);
          }

          const inspected: J = await json(['inspect', ...flags]);
          const after = new Map(
            ((await (await fetch(`${server.url}/api/accounts`)).json()) as { accounts: J[] }).accounts.map((a) => [
              a.name,
              a,
            ]),
          );
          assert.equal(inspected.results.length, ACCOUNT_COUNT, 'inspect covers every account');
          for (const r of inspected.results as J[]) {
            const view = after.get(r.accountName);
            assert.ok(view, `the API lists ${r.accountName} after inspect`);
            assert.equal(view.state, r.state, `${r.accountName}: inspect ${r.state}, API ${view.state}`);
            if (NEEDS_SIGN_IN.has(r.state))
              assert.equal(r.action, 'Reauth', `${r.accountName}: ${r.state} → ${r.action}`);
            // An expired token is Reauth exactly when the pages call the account an error (nothing renews it).
            if (r.state === 'auth_expired') {
              assert.equal(
                r.action === 'Reauth',
                view.status === 'error',
                `${r.accountName}: inspect ${r.action} (${r.reason}), API ${view.status}`,
              );
            }
          }
          const stuck = (inspected.results as J[]).find((r) => r.accountName === NO_REFRESH);
          assert.ok(stuck, 'inspect lists the account without a refresh token');
          assert.equal(stuck.action, 'Reauth', `${NO_REFRESH}: ${stuck.state} → ${stuck.action} (${stuck.reason})`);
          // The evidence keeps what actually happened: locally the token layer had no refresh token; through
          // CPA no refresh was tried, and upstream's own code stays.
          const expected = home === 'cpa' ? 'token_expired' : 'no_refresh_token';
          assert.equal(stuck.evidence.errorCode, expected, `${NO_REFRESH}: evidence ${stuck.evidence.errorCode}`);
          if (home === 'cpa') {
            const expired = (inspected.results as J[]).find((r) => r.accountName === 's-expired-token');
            assert.equal(expired?.evidence.errorCode, 'token_expired', 'a 401 through CPA keeps token_expired');
            assert.equal(expired?.evidence.httpStatus, 401);
          }
          for (const r of inspected.results as J[]) {
            assert.doesNotMatch(
              r.reason,
              /after token refresh/,
              `${r.accountName}: no refresh is claimed (${r.reason})`,
            );
          }
          assert.equal(after.get(NO_REFRESH)?.status, 'error', `${NO_REFRESH}: the API calls it an error`);
          const reported = report.accounts.find((a) => a.email === `${NO_REFRESH}@example.test`);
          assert.equal(reported?.status, 'error', `${NO_REFRESH}: the report calls it an error`);
        } finally {
          await server.close();
          await core.close().catch(() => {});
        }
      });
    });
  }
}

function isProbeFlag(all: string[], i: number, f: string): boolean {
  const probe = ['--retries', '--timeout-ms'];
  return probe.includes(f) || (i > 0 && probe.includes(all[i - 1]));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function serve(dir: string, sim: Simulator): Promise<{ core: FleetService; server: RunningServer }> {
  const config = resolveConfig(
    {
      dataDir: join(dir, 'data'),
      accountDir: join(dir, 'account'),
      chatgptUrl: sim.chatgptUrl,
      authUrl: sim.authUrl,
      retries: 0,
      timeoutMs: 3000,
    },
    {},
  );
  const core = await createFleetService({ config, background: false });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    service: core,
    dataDir: join(dir, 'data'),
    env: {},
    log: () => {},
  });
  return { core, server };
}
