// Two-way interop with the real Codex CLI (0.169.0) on one auth.json, against the simulator:
// the CLI refreshes and writes, codex-fleet reads that and refreshes, the CLI uses what we wrote,
// and while codex-fleet holds the auth.json locks the CLI's own write waits for us.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codexCliMissing } from '../../test/support/real-server.ts';
import { waitFor } from '../../test/support/wait.ts';
import { codexCliFile } from '../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from '../sim/tokens.ts';
import { codexCliLockPaths, withFileLock } from './lock.ts';
import { TokenManager } from './refresh.ts';
import { codexHomeSource } from './sources/codex-home.ts';
import { jsonDiffPaths } from './test-support/json-diff.ts';

const CODEX_BIN = join(
  import.meta.dirname,
  '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
);
const skip = codexCliMissing(CODEX_BIN);

/**
 * Asks the real CLI (`codex app-server`, JSON lines on stdio) for rate limits; like every CLI
 * command it first refreshes a token that expires within about 5 minutes. Resolves with the answer.
 */
function cliReadRateLimits(home: string, authUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Async on purpose: the simulator runs in this process and must keep answering.
    const child = spawn(CODEX_BIN, ['app-server'], {
      env: { ...process.env, CODEX_HOME: home, CODEX_REFRESH_TOKEN_URL_OVERRIDE: authUrl },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    let buffer = '';
    let answer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line) as { id?: number };
        if (msg.id === 0) {
          send({ method: 'initialized' });
          send({ id: 1, method: 'account/rateLimits/read', params: {} });
        } else if (msg.id === 1) {
          answer = line;
          child.stdin.end();
        }
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve(answer));
    send({
      id: 0,
      method: 'initialize',
      params: { clientInfo: { name: 'fleet_test', title: 'Fleet Test', version: '0.0.1' }, capabilities: null },
    });
  });
}

/** Whether a process is blocked in flock(2) on `path` (the kernel lists waiters as "->" in /proc/locks). */
async function flockWaiterOn(path: string): Promise<{ ok: boolean; seen: string }> {
  const { ino } = await stat(path);
  const locks = await readFile('/proc/locks', 'utf8');
  const waiting = locks.split('\n').some((l) => / -> FLOCK\s.*:/.test(l) && l.includes(`:${ino} `));
  return { ok: waiting, seen: `/proc/locks: ${locks.trim() || '(empty)'}` };
}

describe('the real Codex CLI and codex-fleet share one auth.json', { skip }, () => {
  let sim: Simulator;
  let home: string;
  let auth: string;
  let clockOffsetMs = 0;
  before(async () => {
    // The first token is already expired, so the CLI refreshes once. Later, `clockOffsetMs` puts the
    // simulator's clock ~10 days behind, so tokens it mints then expire a minute from now: inside the
    // CLI's 5-minute window, so the CLI refreshes again when it runs.
    sim = await startSimulator({
      accounts: [{ id: 'acc-shared', email: 'shared@example.com', scenario: 'expired-token' }],
      clock: () => Date.now() + clockOffsetMs,
    });
    home = await mkdtemp(join(tmpdir(), 'fleet-cli-interop-'));
    auth = join(home, 'auth.json');
    await writeFile(auth, JSON.stringify(codexCliFile(sim.accounts[0]), null, 2), { mode: 0o600 });
    await writeFile(join(home, 'config.toml'), `chatgpt_base_url = "${sim.chatgptUrl}/"\n`);
  });
  after(async () => {
    await sim.close();
    await rm(home, { recursive: true, force: true });
  });

  it('CLI refreshes and writes → codex-fleet reads it and refreshes with the CLI-saved token', async () => {
    const out = await cliReadRateLimits(home, sim.authUrl);
    assert.match(out, /"rateLimits"/, 'the CLI read quota');
    assert.equal(sim.stats().refreshes, 1, 'the CLI refreshed its expired token');
    const cliWritten = await readFile(auth, 'utf8');
    assert.equal(JSON.parse(cliWritten).tokens.refresh_token, sim.accounts[0].refreshToken);

    const { accounts, errors } = await codexHomeSource(home).load();
    assert.deepEqual(errors, []);
    const r = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).refreshNow(accounts[0]);
    assert.ok(r.ok && r.action === 'refreshed', !r.ok ? r.message : '');
    assert.equal(sim.stats().reusedRefreshTokens, 0);
    const ours = await readFile(auth, 'utf8');
    for (const p of jsonDiffPaths(JSON.parse(cliWritten), JSON.parse(ours))) {
      assert.match(p, /^(tokens\.(id_token|access_token|refresh_token)|last_refresh)$/);
    }
    assert.equal(ours.endsWith('\n'), cliWritten.endsWith('\n'), 'same layout as the CLI writes');
  });

  it('while codex-fleet holds the auth.json locks, the CLI waits to write its refreshed pair', async () => {
    // codex-fleet saves a pair that expires in a minute; the CLI will refresh it with OUR refresh token.
    clockOffsetMs = -(ACCESS_TOKEN_TTL_SECONDS - 60) * 1000;
    const [account] = (await codexHomeSource(home).load()).accounts;
    const ours = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).refreshNow(account);
    assert.ok(ours.ok && ours.action === 'refreshed');
    const reusedBefore = sim.stats().reusedRefreshTokens;
    const before = sim.stats().refreshes;
    const original = await readFile(auth, 'utf8');
    let cli: Promise<string> | null = null;
    await withFileLock(auth, 'codex-cli', async () => {
      cli = cliReadRateLimits(home, sim.authUrl);
      await waitFor(() => sim.stats().refreshes > before, { what: 'the CLI to refresh upstream', timeoutMs: 60_000 });
      // "Did not write" made observable: the CLI is blocked on the lock we hold, not merely slow.
      await waitFor(() => flockWaiterOn(codexCliLockPaths(auth)[0]), { what: 'the CLI to wait on auth.lock' });
      assert.equal(await readFile(auth, 'utf8'), original, 'the CLI did not write while we held the lock');
    });
    await cli;
    const after = JSON.parse(await readFile(auth, 'utf8'));
    assert.equal(after.tokens.refresh_token, sim.accounts[0].refreshToken, 'the CLI saved its pair after we let go');
    assert.equal(sim.stats().reusedRefreshTokens, reusedBefore, 'the CLI used the refresh token codex-fleet had saved');
  });
});
