// A process killed mid-refresh (upstream has rotated the pair, the new pair is not saved yet):
// the account must end with the new pair or flagged for reauth with a clear reason, never silently
// broken. Upstream already spent the old refresh token, so here the honest outcome is the flag.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { codexCliFile, cpaFile } from '../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { TEST_PAUSE_ENV, TokenManager } from './refresh.ts';
import { authDirSource } from './sources/auth-dir.ts';

const worker = join(import.meta.dirname, 'test-support', 'refresh-worker.ts');

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await waitFor(check, { what });
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('a refresh killed between the upstream answer and the write', () => {
  let paused: Simulator; // answers after a short delay; the worker then stops at the test hook
  let hanging: Simulator; // rotates, then holds the answer: the worker dies with the request in flight
  let root: string;
  before(async () => {
    paused = await startSimulator({
      accounts: [
        { id: 'acc-cli', email: 'cli@example.com', name: 'cli' },
        { id: 'acc-cpa', email: 'cpa@example.com', name: 'cpa' },
      ],
      refreshDelayMs: 100,
    });
    hanging = await startSimulator({
      accounts: [{ id: 'acc-hang', email: 'hang@example.com', name: 'hang' }],
      refreshDelayMs: 600_000,
    });
    root = await mkdtemp(join(tmpdir(), 'fleet-kill-'));
  });
  after(async () => {
    await paused.close();
    await hanging.close();
    await rm(root, { recursive: true, force: true });
  });

  async function scenario(sim: Simulator, name: string, file: string, content: unknown, atHook: boolean) {
    const dir = join(root, name);
    await mkdir(dir);
    const original = JSON.stringify(content, null, 2);
    await writeFile(join(dir, file), original, { mode: 0o600 });
    const marker = join(root, `${name}.paused`);
    const refreshesBefore = sim.stats().refreshes;
    const child = spawn(process.execPath, [worker, dir, sim.authUrl, '1', 'manual'], {
      stdio: 'ignore',
      env: { ...process.env, ...(atHook ? { [TEST_PAUSE_ENV]: marker } : {}) },
    });
    if (atHook) {
      await until('the worker to pause after the upstream answer', () =>
        access(marker).then(
          () => true,
          () => false,
        ),
      );
    } else {
      await until('upstream to rotate the pair', () => sim.stats().refreshes > refreshesBefore);
    }
    await killHard(child);
    assert.equal(sim.stats().refreshes, refreshesBefore + 1, 'upstream did rotate (the old token is spent)');

    // Nothing half-written: the file still holds the old, readable pair.
    assert.equal(await readFile(join(dir, file), 'utf8'), original);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.includes('.tmp-')),
      [],
    );

    // The next run gets the lock (the dead holder's lock is released or stale) and flags the account.
    const { accounts, errors } = await authDirSource(dir).load();
    assert.deepEqual(errors, []);
    const manager = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl, lockTimeoutMs: 30_000 });
    const r = await manager.refreshNow(accounts[0]);
    assert.ok(!r.ok, 'the old refresh token is spent');
    assert.equal(r.state, 'auth_invalid');
    assert.equal(r.code, 'refresh_token_reused');
    assert.match(r.message, /interrupted before its new tokens were saved/);
    assert.match(r.message, /sign in again/);

    // It stays flagged, and no process sends the dead token again.
    const calls = sim.stats().requests['/oauth/token'];
    const again = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).refreshAfterUnauthorized(
      accounts[0],
    );
    assert.ok(!again.ok && again.state === 'auth_invalid' && again.code === 'refresh_token_reused');
    assert.deepEqual(sim.stats().requests['/oauth/token'], calls);
  }

  it('Codex CLI auth.json (flock): killed at the test hook → flagged for reauth with the reason', async () => {
    await scenario(paused, 'cli', 'auth.json', codexCliFile(paused.accounts[0]), true);
  });

  it('CPA file (lock file, taken over once stale): killed at the test hook → flagged for reauth', async () => {
    await scenario(paused, 'cpa', 'codex-cpa@example.com.json', cpaFile(paused.accounts[1]), true);
  });

  it('killed while the answer was still in flight → flagged for reauth', async () => {
    await scenario(hanging, 'hang', 'auth.json', codexCliFile(hanging.accounts[0]), false);
  });
});
