// Two processes × 50 concurrent refreshes of the same accounts, against single-use rotating
// refresh tokens: nobody may ever send a token that was already used, and the files end up
// holding the newest pair.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codexCliFile, cpaFile, multiAuthFile } from '../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { authDirSource } from './sources/auth-dir.ts';

const worker = join(import.meta.dirname, 'test-support', 'refresh-worker.ts');

function runWorker(dir: string, authUrl: string, calls: number, mode: string) {
  return new Promise<{
    upstreamRefreshes: number;
    refreshed: number;
    adopted: number;
    none: number;
    failures: string[];
  }>((resolve, reject) => {
    const child = spawn(process.execPath, [worker, dir, authUrl, String(calls), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

describe('cross-process refresh: 2 processes × 50 concurrent refreshes', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { id: 'acc-cli', email: 'cli@example.com', name: 'cli' },
        { id: 'acc-cpa', email: 'cpa@example.com', name: 'cpa' },
        { id: 'acc-m1', email: 'm1@example.com', name: 'm1' },
        { id: 'acc-m2', email: 'm2@example.com', name: 'm2' },
      ],
      // Real token endpoints take time; the window between reading a token and its rotation is
      // where unlocked clients burn each other's tokens.
      refreshDelayMs: 40,
    });
    dir = await mkdtemp(join(tmpdir(), 'fleet-concurrency-'));
    const [cli, cpa, m1, m2] = sim.accounts;
    // Codex CLI file as auth.json: the flock(1) path; the others: proper-lockfile.
    await writeFile(join(dir, 'auth.json'), JSON.stringify(codexCliFile(cli), null, 2));
    await writeFile(join(dir, 'codex-cpa@example.com.json'), JSON.stringify(cpaFile(cpa), null, 2));
    await writeFile(join(dir, 'openai-codex-accounts.json'), JSON.stringify(multiAuthFile([m1, m2]), null, 2));
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['manual', 'unauthorized']) {
    it(`${mode}: 0 refresh_token_reused, and the files hold the newest tokens`, async () => {
      const before = sim.stats();
      const [a, b] = await Promise.all([runWorker(dir, sim.authUrl, 50, mode), runWorker(dir, sim.authUrl, 50, mode)]);
      const after = sim.stats();
      assert.deepEqual(a.failures, []);
      assert.deepEqual(b.failures, []);
      assert.equal(after.reusedRefreshTokens, 0, 'no refresh token was ever used twice');
      assert.equal(after.refreshFailures - before.refreshFailures, 0);
      // Many real upstream refreshes happened (shared flights count once), from both processes' calls.
      assert.equal(after.refreshes - before.refreshes, a.upstreamRefreshes + b.upstreamRefreshes);
      // How many calls adopt a pair another flight just saved depends on timing; every account refreshes at least once.
      assert.ok(a.upstreamRefreshes + b.upstreamRefreshes >= 4, 'every account was refreshed upstream');
      assert.equal(a.refreshed + a.adopted + a.none, 200, '4 accounts × 50 calls, each answered');
      const { accounts } = await authDirSource(dir).load();
      assert.equal(accounts.length, 4);
      for (const account of accounts) {
        const live = sim.accounts.find((s) => s.id === account.accountId)!;
        assert.equal(
          account.credentials.refreshToken,
          live.refreshToken,
          `${account.name} holds the newest refresh token`,
        );
        assert.equal(account.credentials.accessToken, live.accessToken);
      }
      console.log(
        `# ${mode}: upstream refreshes A ${a.upstreamRefreshes} + B ${b.upstreamRefreshes}; calls answered refreshed/adopted A ${a.refreshed}/${a.adopted} B ${b.refreshed}/${b.adopted}; reused ${after.reusedRefreshTokens}`,
      );
    });
  }
});
