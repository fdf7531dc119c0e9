// The Codex CLI probe with the REAL codex binary (0.169.0) against the simulator: same numbers and
// same classification as the HTTP probe, no token left in a temp dir (also when the binary hangs or
// crashes), and `quota --probe auto` switching to the CLI only after repeated Cloudflare answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pLimit from 'p-limit';
import type { QuotaRow } from '../../src/core/quota-rows.ts';
import type { Credentials } from '../../src/domain/account.ts';
import type { ProbeResult, QuotaWindow } from '../../src/domain/quota.ts';
import { type ScenarioName, type Simulator, startSimulator } from '../../src/sim/index.ts';
import {
  codexCliBin,
  PROBE_DIR_PREFIX,
  probeViaCodexCli,
  sweepStaleProbeDirs,
} from '../../src/upstream/codex-cli-probe.ts';
import { probeAccount } from '../../src/upstream/probe.ts';
import { REPO_ROOT, runCli } from '../support/cli.ts';
import { codexCliMissing } from '../support/real-server.ts';
import { within } from '../support/wait.ts';

const BIN =
  process.env.CODEX_CLI_BIN ||
  join(REPO_ROOT, 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex');
const skip = codexCliMissing(BIN);

const SAME_NUMBERS: ScenarioName[] = [
  'healthy',
  'weekly-only-free',
  'team-monthly',
  'pro',
  'exhausted',
  'five-hour-full',
  'credits',
  'code-review-additional',
];
const SAME_CLASS: ScenarioName[] = [
  'usage-limit-429',
  'usage-limit-429-no-reset',
  'usage-not-included',
  'deactivated-workspace',
  'account-deactivated',
  'unsupported-country',
  'auth-revoked',
  'cloudflare',
  'throttled',
  'server-error',
  'bad-gateway',
  'overloaded',
  'malformed-non-json',
];

let sim: Simulator;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cf-cliprobe-'));
  sim = await startSimulator({ accounts: [...SAME_NUMBERS, ...SAME_CLASS].map((scenario) => ({ scenario })) });
});
after(async () => {
  await sim?.close();
  await rm(work, { recursive: true, force: true });
});

function credentialsOf(scenario: ScenarioName): Credentials {
  const a = sim.accounts.find((x) => x.scenario === scenario)!;
  return {
    accessToken: a.accessToken,
    refreshToken: a.refreshToken,
    idToken: a.idToken,
    accountId: a.id,
    expiresAt: null,
    lastRefresh: null,
  };
}

function httpProbe(scenario: ScenarioName): Promise<ProbeResult> {
  const c = credentialsOf(scenario);
  return probeAccount(
    { accessToken: c.accessToken, accountId: c.accountId },
    { chatgptUrl: sim.chatgptUrl, retries: 0, timeoutMs: 5000 },
  );
}

function cliProbe(scenario: ScenarioName, tempDir: string): Promise<ProbeResult> {
  return probeViaCodexCli(credentialsOf(scenario), {
    bin: BIN,
    chatgptUrl: sim.chatgptUrl,
    authUrl: sim.authUrl,
    tempDir,
  });
}

const mainAndExtra = (windows: QuotaWindow[]) => windows.filter((w) => w.scope !== 'code_review');

describe('CLI probe vs HTTP probe on the same simulated account', { skip }, () => {
  // Every pair runs at once (each CLI start takes about a second); the tests below read their outcome.
  const pairs = new Map<ScenarioName, Promise<{ http: ProbeResult; cli: ProbeResult; dir: string }>>();
  before(async () => {
    const all = [...SAME_NUMBERS, ...SAME_CLASS];
    // HTTP first, while the machine is idle: its reset times are anchored at the moment the answer
    // arrives, so a probe slowed by 20 CLI start-ups would drift. The CLI's come from reset_at as is.
    const http = new Map<ScenarioName, ProbeResult>();
    for (const scenario of all) http.set(scenario, await httpProbe(scenario));
    // Then the CLI probes, four at a time (each start takes about a second of CPU); the tests read the outcomes.
    const limit = pLimit(4);
    for (const scenario of all) {
      pairs.set(
        scenario,
        mkdtemp(join(work, `${scenario}-`)).then(async (dir) => ({
          http: http.get(scenario)!,
          cli: await limit(() => cliProbe(scenario, dir)),
          dir,
        })),
      );
    }
  });
  // Even when a name filter skips some tests, every probe ends before the work dir is removed.
  after(() => Promise.allSettled(pairs.values()));
  for (const scenario of SAME_NUMBERS) {
    it(`${scenario}: same plan, windows, resets and credits`, async () => {
      const { http, cli, dir } = await pairs.get(scenario)!;
      assert.equal(cli.source, 'codex-cli');
      assert.equal(http.source, 'network');
      assert.equal(cli.state, http.state, `state (cli: ${cli.reason} ${cli.message})`);
      assert.equal(cli.reason, http.reason);
      assert.equal(cli.snapshot?.plan, http.snapshot?.plan);
      assert.deepEqual(cli.snapshot?.credits, http.snapshot?.credits);
      const h = mainAndExtra(http.snapshot!.windows);
      const c = cli.snapshot!.windows;
      assert.equal(c.length, h.length, 'the same windows (code review is not visible through the CLI)');
      for (const [i, hw] of h.entries()) {
        const cw = c[i];
        assert.equal(cw.kind, hw.kind);
        assert.equal(cw.scope, hw.scope);
        assert.equal(cw.usedPercent, hw.usedPercent);
        assert.equal(cw.windowSeconds, hw.windowSeconds);
        const drift = Math.abs(Date.parse(cw.resetsAt!) - Date.parse(hw.resetsAt!));
        assert.ok(drift <= 2000, `reset times within 2 s (${drift} ms apart)`);
      }
      assert.deepEqual(await readdir(dir), [], 'no probe home left behind');
    });
  }

  for (const scenario of SAME_CLASS) {
    it(`${scenario}: classified the same`, async () => {
      const { http, cli, dir } = await pairs.get(scenario)!;
      assert.equal(cli.state, http.state);
      assert.equal(cli.reason, http.reason);
      assert.equal(cli.httpStatus, http.httpStatus);
      assert.equal(cli.transient, http.transient);
      assert.equal(cli.snapshot?.plan ?? null, http.snapshot?.plan ?? null);
      const text = JSON.stringify(cli);
      assert.doesNotMatch(text, /127\.0\.0\.1|<html|content-type=/i, 'no URL or raw body in the result');
      assert.ok(!text.includes(credentialsOf(scenario).accessToken!), 'no token in the result');
      assert.deepEqual(await readdir(dir), []);
    });
  }
});

/** A stand-in for the codex binary that records its CODEX_HOME and the token it saw, then misbehaves. */
async function fakeBinary(name: string, behaviour: string): Promise<{ bin: string; seen: string }> {
  const seen = join(work, `${name}.seen`);
  const bin = join(work, `${name}.sh`);
  await writeFile(
    bin,
    `#!/bin/sh\necho "$CODEX_HOME" > '${seen}'\ngrep -c access_token "$CODEX_HOME/auth.json" >> '${seen}'\necho $$ >> '${seen}'\n${behaviour}\n`,
  );
  await chmod(bin, 0o755);
  return { bin, seen };
}

describe('token refresh through the CLI', { skip }, () => {
  it('read-only: an expired token is auth_expired and no refresh token is spent', async () => {
    const s = await startSimulator({ accounts: [{ scenario: 'expired-token' }] });
    try {
      const a = s.accounts[0];
      const creds = {
        ...credentialsOf('healthy'),
        accessToken: a.accessToken,
        refreshToken: a.refreshToken,
        idToken: a.idToken,
        accountId: a.id,
      };
      const dir = await mkdtemp(join(work, 'ro-'));
      const out = await probeViaCodexCli(creds, {
        bin: BIN,
        chatgptUrl: s.chatgptUrl,
        authUrl: s.authUrl,
        allowTokenRefresh: false,
        tempDir: dir,
      });
      assert.equal(out.state, 'auth_expired');
      assert.equal(out.rotatedCredentials, null);
      assert.equal(s.stats().refreshes, 0, 'the token endpoint was never called');

      const allowed = await probeViaCodexCli(creds, {
        bin: BIN,
        chatgptUrl: s.chatgptUrl,
        authUrl: s.authUrl,
        tempDir: dir,
      });
      assert.equal(allowed.state, 'ok', 'with refresh allowed the CLI refreshes and reads quota');
      assert.equal(s.stats().refreshes, 1);
      assert.equal(
        allowed.rotatedCredentials?.refreshToken,
        s.accounts[0].refreshToken,
        'the rotated pair is handed back',
      );
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await s.close();
    }
  });
});

describe('no token left behind when the binary misbehaves', () => {
  const cases: Array<{ name: string; behaviour: string; reason: string }> = [
    { name: 'crash', behaviour: 'echo "thread main panicked at src/x.rs" >&2; exit 101', reason: 'unexpected_status' },
    { name: 'hang', behaviour: 'exec sleep 600', reason: 'timeout' },
    { name: 'hang-ignoring-sigterm', behaviour: "trap '' TERM; while :; do sleep 1; done", reason: 'timeout' },
    { name: 'garbage', behaviour: 'echo "not json"; echo \'{"id":1}\'; exit 0', reason: 'malformed_response' },
  ];
  for (const c of cases) {
    it(`${c.name}: a clear result and the private home is gone`, async () => {
      const dir = await mkdtemp(join(work, `${c.name}-`));
      const { bin, seen } = await fakeBinary(c.name, c.behaviour);
      const out = await probeViaCodexCli(credentialsOf('healthy'), {
        bin,
        chatgptUrl: sim.chatgptUrl,
        timeoutMs: 300,
        tempDir: dir,
      });
      assert.equal(out.state, 'unknown');
      assert.equal(out.reason, c.reason, out.message ?? '');
      assert.equal(out.transient, true);
      const [home, count] = (await readFile(seen, 'utf8')).trim().split('\n');
      assert.ok(home.startsWith(join(dir, PROBE_DIR_PREFIX)), 'the binary ran in a private home');
      assert.equal(count, '1', 'the home held the auth while the probe ran');
      assert.equal(existsSync(home), false, 'the home is removed');
      assert.deepEqual(await readdir(dir), []);
    });
  }

  it('our own process exiting mid-probe removes the home (a SIGKILL leaves it to the next sweep)', async () => {
    const dir = await mkdtemp(join(work, 'exit-'));
    const { bin, seen } = await fakeBinary('exit-mid-probe', 'exec sleep 600');
    const script = join(work, 'exit-mid-probe.ts');
    await writeFile(
      script,
      `import { existsSync, readFileSync } from 'node:fs';
import { probeViaCodexCli } from ${JSON.stringify(join(REPO_ROOT, 'src/upstream/codex-cli-probe.ts'))};
const creds = ${JSON.stringify(credentialsOf('healthy'))};
probeViaCodexCli(creds, { bin: ${JSON.stringify(bin)}, chatgptUrl: 'http://127.0.0.1:9', timeoutMs: 600000, tempDir: ${JSON.stringify(dir)} });
// Exit once the stand-in binary has written all three lines (home, token count, pid): the probe is mid-way.
const full = () => existsSync(${JSON.stringify(seen)}) && readFileSync(${JSON.stringify(seen)}, 'utf8').trim().split('\\n').length >= 3;
const wait = setInterval(() => { if (full()) { clearInterval(wait); process.exit(3); } }, 20);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    const code = await within(new Promise((ok) => child.on('exit', ok)), {
      what: 'the probing process to exit mid-probe',
    });
    assert.equal(code, 3);
    const [home, , pid] = (await readFile(seen, 'utf8')).trim().split('\n');
    process.kill(Number(pid)); // the orphaned stand-in binary
    assert.ok(home.startsWith(join(dir, PROBE_DIR_PREFIX)));
    assert.deepEqual(await readdir(dir), [], 'the exit hook removed the home');
  });

  it('homes older than ten minutes (a killed process) are swept by the next probe', async () => {
    const dir = await mkdtemp(join(work, 'sweep-'));
    const stale = join(dir, `${PROBE_DIR_PREFIX}stale`);
    const fresh = join(dir, `${PROBE_DIR_PREFIX}fresh`);
    await mkdir(stale);
    await writeFile(join(stale, 'auth.json'), '{"tokens":{}}');
    await mkdir(fresh);
    const old = new Date(Date.now() - 11 * 60_000);
    await utimes(stale, old, old);
    assert.equal(await sweepStaleProbeDirs(Date.now(), dir), 1);
    assert.deepEqual(await readdir(dir), [`${PROBE_DIR_PREFIX}fresh`], 'a probe in flight elsewhere is left alone');
  });

  it('a missing binary says how to fix it', async () => {
    const dir = await mkdtemp(join(work, 'missing-'));
    const out = await probeViaCodexCli(credentialsOf('healthy'), {
      bin: join(work, 'no-such-codex'),
      chatgptUrl: sim.chatgptUrl,
      tempDir: dir,
    });
    assert.equal(out.state, 'unknown');
    assert.match(out.message ?? '', /CODEX_CLI_BIN/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('CODEX_CLI_BIN overrides the default binary', () => {
    assert.equal(codexCliBin({ CODEX_CLI_BIN: '/opt/codex' }), '/opt/codex');
    assert.equal(codexCliBin({}), 'codex');
  });
});

describe('quota --probe auto', { skip }, () => {
  async function quotaAuto(scenarios: ScenarioName[]): Promise<{ rows: QuotaRow[] }> {
    const s = await startSimulator({
      accounts: scenarios.map((scenario, i) => ({ scenario, name: `a${i}-${scenario}`, email: `a${i}@example.com` })),
    });
    const dir = await mkdtemp(join(work, 'auto-'));
    try {
      await s.writeAuthFiles(join(dir, 'account'), 'cpa');
      const run = await runCli(
        [
          'quota',
          '--json',
          '--probe',
          'auto',
          '--concurrency',
          '1',
          '--retries',
          '1',
          '--retry-delay',
          '0.01',
          '--account-dir',
          join(dir, 'account'),
          '--data-dir',
          join(dir, 'data'),
          '--chatgpt-url',
          s.chatgptUrl,
          '--auth-url',
          s.authUrl,
        ],
        { env: { CODEX_CLI_BIN: BIN } },
      );
      assert.ok(run.stdout.trim().startsWith('['), `quota --json printed rows (stderr: ${run.stderr})`);
      const rows = (JSON.parse(run.stdout) as QuotaRow[]).sort((a, b) => a.email!.localeCompare(b.email!));
      return { rows };
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('stays on HTTP after fewer than three Cloudflare answers', async () => {
    const { rows } = await quotaAuto(['cloudflare', 'cloudflare', 'healthy', 'healthy']);
    assert.deepEqual(
      rows.map((r) => r.source),
      ['network', 'network', 'network', 'network'],
    );
    assert.equal(rows[2].state, 'ok');
  });

  it('switches the rest of the sweep to the Codex CLI after repeated Cloudflare answers', async () => {
    const { rows } = await quotaAuto(['cloudflare', 'cloudflare', 'cloudflare', 'healthy', 'team-monthly']);
    assert.deepEqual(
      rows.map((r) => r.source),
      ['network', 'network', 'codex-cli', 'codex-cli', 'codex-cli'],
    );
    assert.equal(rows[3].state, 'ok');
    assert.equal(rows[3].plan, 'plus');
    assert.equal(rows[4].plan, 'team');
    assert.equal(rows[4].windows.find((w) => w.scope === 'secondary')?.kind, 'monthly');
  });
});
