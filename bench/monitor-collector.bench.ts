// The collector end to end against a real redis-server: 1M records queued, a collector process
// killed (SIGKILL) between pop and commit halfway through, a new one started, and a reader polling
// the views the whole time. Reports events lost, events doubled and the end-to-end rate.
// MONITOR_BENCH_QUEUE=200000 for a shorter run. Skipped (with a row saying so) without redis-server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMonitorService } from '../src/monitor/service.ts';
import { openStore } from '../src/store/open.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import { generateRecords } from '../test/support/monitor-events.ts';
import { tryStartRedis } from '../test/support/redis.ts';
import type { BenchRow } from './types.ts';

const CHILD = join(import.meta.dirname, '../test/support/monitor-collector-child.ts');

function runChild(args: string[]): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, ...args], { timeout: 3_600_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        out: stdout + stderr,
      });
    });
  });
}

export default async function collectorBench(): Promise<BenchRow[]> {
  const n = Number(process.env.MONITOR_BENCH_QUEUE ?? 1_000_000);
  const redis = await tryStartRedis();
  if ('skip' in redis) return [{ name: 'monitor collector end to end', value: 'skipped', unit: redis.skip }];
  const dir = mkdtempSync(join(tmpdir(), 'cf-moncoll-'));
  const dbPath = join(dir, 'c.db');
  try {
    const push = redis.client();
    for (let i = 0; i < n; i += 10_000) {
      const batch: string[] = [];
      for (const r of generateRecords(Math.min(10_000, n - i), { start: Date.UTC(2026, 10, 1), stepMs: 3, seed: 5 }, i))
        batch.push(JSON.stringify(r));
      await push.rpush('usage', ...batch);
    }
    // Create the schema first, so the reader can start right away.
    await (await openStore({ databaseUrl: `sqlite:${dbPath}` })).close();
    const reader = openSqlite(dbPath);
    const mon = await createMonitorService({ db: reader });
    let polling = true;
    let polls = 0;
    const poll = (async () => {
      while (polling) {
        await mon.queries.list({}, { limit: 50 });
        await mon.queries.summary({});
        polls++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const t = performance.now();
    const crashBatch = String(Math.max(2, Math.floor(n / 2000 / 2)));
    const first = await runChild([
      dbPath,
      String(redis.port),
      join(dir, 'spool'),
      'bench-a',
      'after-spool',
      crashBatch,
    ]);
    let second = await runChild([dbPath, String(redis.port), join(dir, 'spool'), 'bench-b']);
    for (let i = 0; i < 40 && second.code === 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      second = await runChild([dbPath, String(redis.port), join(dir, 'spool'), 'bench-b']);
    }
    const seconds = (performance.now() - t) / 1000;
    polling = false;
    await poll;
    const c = await reader.get<{ n: number; d: number }>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
    );
    await reader.close();
    const stored = Number(c?.n);
    const distinct = Number(c?.d);
    const left = await push.llen('usage');
    return [
      {
        name: `monitor collector over Redis: killed mid-batch (${first.signal ?? first.code}), restarted`,
        value: n,
        unit: 'events queued',
      },
      {
        name: 'monitor collector: events lost',
        value: n - distinct,
        unit: 'events',
        target: '0',
        ok: n - distinct === 0 && left === 0,
      },
      {
        name: 'monitor collector: events doubled',
        value: stored - distinct,
        unit: 'events',
        target: '0',
        ok: stored === distinct,
      },
      {
        name: 'monitor collector: end-to-end rate with a reader polling',
        value: n / seconds,
        unit: 'events/s',
        target: '≥ 50000',
        ok: n / seconds >= 50_000,
      },
      { name: 'monitor collector: reader polls during the run', value: polls, unit: 'polls', target: 'info' },
    ];
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
