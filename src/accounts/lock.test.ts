import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pace } from '../../test/support/wait.ts';
import { codexCliLockPaths, createSingleFlight, LockError, withFileLock } from './lock.ts';

/** Is `path` free for an exclusive flock right now? Asks flock(1) without waiting. */
function flockFree(path: string): boolean {
  return spawnSync('flock', ['--exclusive', '--nonblock', path, 'true']).status === 0;
}

describe('file locks', () => {
  let dir: string;
  let auth: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-lock-'));
    auth = join(dir, 'auth.json');
    await writeFile(auth, '{}');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('codex-cli: holds the same flocks as the Codex CLI (auth.lock, auth.json.lock) while the section runs', async () => {
    const [outer, inner] = codexCliLockPaths(auth);
    assert.equal(outer, join(dir, 'auth.lock'));
    assert.equal(inner, join(dir, 'auth.json.lock'));
    await withFileLock(auth, 'codex-cli', async () => {
      assert.equal(flockFree(outer), false, 'auth.lock is held');
      assert.equal(flockFree(inner), false, 'auth.json.lock is held');
    });
    assert.equal(flockFree(outer), true, 'released');
    assert.equal(flockFree(inner), true, 'released');
    assert.equal((await stat(inner)).mode & 0o777, 0o600, 'auth.json.lock is 0600 like the CLI makes it');
  });

  it('codex-cli: waits for another holder (e.g. a running CLI) and times out with a clear error', async () => {
    const holder = spawn(
      'flock',
      ['--exclusive', join(dir, 'auth.lock'), 'sh', '-c', 'echo held; exec cat >/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    try {
      await assert.rejects(
        withFileLock(auth, 'codex-cli', async () => 'never', { timeoutMs: 300 }),
        (e: unknown) => e instanceof LockError && /still locked by another process/.test((e as Error).message),
      );
    } finally {
      holder.stdin.end();
      await new Promise((r) => holder.once('exit', r));
    }
    assert.equal(await withFileLock(auth, 'codex-cli', async () => 'got it'), 'got it');
  });

  for (const format of ['codex-cli', 'cpa'] as const) {
    it(`${format}: sections on the same file never overlap in one process`, async () => {
      const path = join(dir, `${format}.json`);
      await writeFile(path, '{}');
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 8 }, () =>
          withFileLock(path, format, async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await pace(5); // a section that takes a moment, so the eight really overlap
            inside--;
          }),
        ),
      );
      assert.equal(maxInside, 1);
    });
  }

  it('single-flight: concurrent callers share one run, later callers start a new one', async () => {
    const flight = createSingleFlight<number>();
    let runs = 0;
    const work = () => pace(5).then(() => ++runs);
    const results = await Promise.all([flight('a', work), flight('a', work), flight('a', work)]);
    assert.deepEqual(results, [1, 1, 1]);
    assert.equal(await flight('a', work), 2);
  });
});
