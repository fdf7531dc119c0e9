// The collector a user runs, end to end: N CPA v7.2 records in a real Redis list, drained by the real
// CLI process `codex-fleet monitor run --once` (the built bin an install runs, dist/codex-fleet.js, built
// first; no Node flags), timed and its peak RSS read from the kernel; beside it the floor: LPOP batches
// of 1,000 and JSON.parse of every record, storing nothing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openSqlite } from '../src/store/sqlite.ts';
import { pushUsageRecords } from '../test/support/monitor-events.ts';
import { type RedisServer, tryStartRedis } from '../test/support/redis.ts';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist', 'codex-fleet.js');

export interface E2eResult {
  n: number;
  floorSeconds: number;
  seconds: number;
  peakRssMb: number;
  rows: number;
  distinct: number;
  left: number;
  exitCode: number | null;
  bytesPerEvent: number;
}

async function floor(push: Redis): Promise<number> {
  const t = performance.now();
  let sink = 0;
  for (;;) {
    const got = await push.lpop('usage', 1000);
    if (!got || got.length === 0) break;
    for (const s of got) sink += (JSON.parse(s) as { latency_ms?: number }).latency_ms ?? 0;
  }
  if (sink < 0) throw new Error('unreachable');
  return (performance.now() - t) / 1000;
}

/** Runs the CLI with no Node flags; peak RSS comes from GNU time (the child's own maxrss). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; maxRssKb: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, CLI, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /MAXRSS_KB=(\d+)/.exec(out);
      resolve({ code, maxRssKb: m ? Number(m[1]) : Number.NaN, out });
    });
  });
}

export async function collectorEndToEnd(n: number): Promise<E2eResult | { skip: string }> {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.ts')], { stdio: 'ignore' });
  const redis = await tryStartRedis();
  if ('skip' in redis) return redis;
  const dir = mkdtempSync(join(tmpdir(), 'cf-mone2e-'));
  try {
    return await measure(redis, dir, n);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(redis: RedisServer, dir: string, n: number): Promise<E2eResult> {
  const push = redis.client();
  await pushUsageRecords(push, n);
  const floorSeconds = await floor(push);
  await pushUsageRecords(push, n);
  const env = { ...process.env, CODEX_FLEET_DATA_DIR: dir, CODEX_FLEET_DATABASE_URL: '' };
  // Schema first, so the timed run measures draining, not migrations.
  await runCli(['monitor', 'status', '--data-dir', dir], env);
  const t = performance.now();
  const r = await runCli(
    ['monitor', 'run', '--once', '--redis', `127.0.0.1:${redis.port}`, '--data-dir', dir, '--json'],
    env,
  );
  const seconds = (performance.now() - t) / 1000;
  if (r.code !== 0) throw new Error(`monitor run --once exited ${r.code}: ${r.out.slice(-500)}`);
  const dbPath = join(dir, 'codex-fleet.db');
  const db = openSqlite(dbPath);
  const c = await db.get<{ n: number; d: number }>(
    'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
  );
  await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.close();
  return {
    n,
    floorSeconds,
    seconds,
    peakRssMb: r.maxRssKb / 1024,
    rows: Number(c?.n),
    distinct: Number(c?.d),
    left: await push.llen('usage'),
    exitCode: r.code,
    bytesPerEvent: statSync(dbPath).size / n,
  };
}

if (import.meta.main) {
  const r = await collectorEndToEnd(Number(process.env.MONITOR_E2E_EVENTS ?? 200_000));
  console.log(JSON.stringify(r, null, 1));
}
