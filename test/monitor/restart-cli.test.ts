// A supervisor's view of `codex-fleet monitor run`: SIGKILL the process it started (the CLI relaunches
// itself with heap limits; its collector child must die with it), restart at once: the restart takes
// over the lease (same host, process gone) instead of exiting 3, and the final count is exact.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqlite } from '../../src/store/sqlite.ts';
import { CLI, REPO_ROOT, runCli } from '../support/cli.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type RedisServer, tryStartRedis } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-monrestart-'));
const started = await tryStartRedis();
const redis: RedisServer | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL of `monitor run`, immediate restart: takes over at once, nothing lost or doubled', { skip }, async () => {
  const N = 60_000;
  const c = redis!.client();
  const recs = [...generateRecords(N, { start: Date.UTC(2026, 10, 4), stepMs: 10, seed: 21 })];
  for (let i = 0; i < N; i += 5000) await c.rpush('usage', ...recs.slice(i, i + 5000).map((r) => JSON.stringify(r)));
  await runCli(['monitor', 'status', '--data-dir', dir]); // schema
  const redisArg = `127.0.0.1:${redis!.port}`;
  const first = spawn(process.execPath, [CLI, 'monitor', 'run', '--redis', redisArg, '--data-dir', dir], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => first.once('exit', (_c, s) => r(s)));
  const db = openSqlite(join(dir, 'codex-fleet.db'));
  try {
    // Mid-run: some events stored, records still queued.
    // A short fixed interval: the kill must land while records are still queued.
    await waitFor(
      async () => {
        const stored = Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event'))?.n);
        const queued = await c.llen('usage');
        return { ok: stored > 0 && queued > 0, seen: { stored, queued } };
      },
      { what: 'the first collector to store events while records are still queued', timeoutMs: 60_000, intervalMs: 20 },
    );
    first.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const second = await runCli(['monitor', 'run', '--once', '--redis', redisArg, '--data-dir', dir, '--json']);
    assert.equal(second.code, 0, `the restart was refused: ${second.stdout}${second.stderr}`);
    const stats = JSON.parse(second.stdout.trim().split('\n').at(-1) as string);
    assert.equal(stats.state, 'stopped');
    assert.equal(await c.llen('usage'), 0);
    const r = await db.get<{ n: number; d: number }>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
    );
    assert.deepEqual({ n: Number(r?.n), d: Number(r?.d) }, { n: N, d: N });
  } finally {
    await db.close();
  }
});
