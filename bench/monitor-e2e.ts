// The collector a user runs, end to end: N CPA v7.2 records in a real Redis list, drained by the real
// CLI process `codex-fleet monitor run --once` (the built bin an install runs, dist/codex-fleet.js, built
// first; no Node flags), timed from spawn to exit and its peak RSS read from the kernel. Beside it the floor,
// timed the same way: a process that only connects, LPOPs batches of 1,000 and JSON.parses every record
// (bench/monitor-floor.ts, bundled as the CLI is, run with the collector's own heap flags). Rounds alternate
// floor and collector, each on a freshly filled list (and the collector on an empty database), so a busy
// machine slows both alike; the ratio is the median of the rounds' ratios. The same drain inside this
// process, which starts nothing, is reported too.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { build } from 'rolldown';
import { NODE_INPUT, NODE_OUTPUT } from '../scripts/node-bundle.ts';
import { COLLECTOR_NODE_FLAGS } from '../src/monitor/heap.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import { pushUsageRecords } from '../test/support/monitor-events.ts';
import { type RedisServer, tryStartRedis } from '../test/support/redis.ts';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist', 'codex-fleet.js');

export interface E2eRound {
  /** The floor process, spawn to exit. */
  floorSeconds: number;
  /** `monitor run --once`, spawn to exit. */
  seconds: number;
  peakRssMb: number;
  rows: number;
  distinct: number;
  left: number;
  bytesPerEvent: number;
}

export interface E2eResult {
  n: number;
  rounds: E2eRound[];
  /** Medians over the rounds. */
  floorSeconds: number;
  seconds: number;
  ratio: number;
  /** The largest over the rounds. */
  peakRssMb: number;
  /** The floor's drain inside this process (no process start, no client load), once. */
  inProcessFloorSeconds: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function inProcessFloor(push: Redis): Promise<number> {
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

/** Runs a Node program with no Node flags; peak RSS comes from GNU time (the child's own maxrss). */
function runNode(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; maxRssKb: number; out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, ...args], {
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
      const seconds = (performance.now() - t) / 1000;
      const m = /MAXRSS_KB=(\d+)/.exec(out);
      resolve({ code, maxRssKb: m ? Number(m[1]) : Number.NaN, out, seconds });
    });
  });
}

/** bench/monitor-floor.ts bundled into dir as plain JavaScript, its dependencies inside, as dist/ is built. */
async function bundleFloor(dir: string): Promise<string> {
  const out = join(dir, 'monitor-floor.mjs');
  await build({
    ...NODE_INPUT,
    input: join(import.meta.dirname, 'monitor-floor.ts'),
    output: { ...NODE_OUTPUT, file: out, codeSplitting: false },
  });
  return out;
}

export async function collectorEndToEnd(n: number, rounds = 3): Promise<E2eResult | { skip: string }> {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.ts')], { stdio: 'ignore' });
  const redis = await tryStartRedis();
  if ('skip' in redis) return redis;
  const dir = mkdtempSync(join(tmpdir(), 'cf-mone2e-'));
  try {
    return await measure(redis, dir, n, rounds);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(redis: RedisServer, dir: string, n: number, count: number): Promise<E2eResult> {
  const push = redis.client();
  const floorJs = await bundleFloor(dir);
  await pushUsageRecords(push, n);
  const inProcessFloorSeconds = await inProcessFloor(push);
  const rounds: E2eRound[] = [];
  for (let i = 0; i < count; i++) {
    await pushUsageRecords(push, n);
    // With the heap limits the collector gives itself (src/monitor/heap.ts): the same young generation.
    const floor = await runNode([...COLLECTOR_NODE_FLAGS, floorJs, String(redis.port)], process.env);
    const drained = floor.code === 0 ? (JSON.parse(floor.out.split('\n')[0]) as { n: number }).n : -1;
    if (drained !== n) throw new Error(`the floor process drained ${drained} of ${n}: ${floor.out.slice(-500)}`);
    await pushUsageRecords(push, n);
    const data = join(dir, `data-${i}`);
    const env = { ...process.env, CODEX_FLEET_DATA_DIR: data, CODEX_FLEET_DATABASE_URL: '' };
    // Schema first, so the timed run measures draining, not migrations.
    await runNode([CLI, 'monitor', 'status', '--data-dir', data], env);
    const r = await runNode(
      [CLI, 'monitor', 'run', '--once', '--redis', `127.0.0.1:${redis.port}`, '--data-dir', data, '--json'],
      env,
    );
    if (r.code !== 0) throw new Error(`monitor run --once exited ${r.code}: ${r.out.slice(-500)}`);
    const dbPath = join(data, 'codex-fleet.db');
    const db = openSqlite(dbPath);
    const c = await db.get<{ n: number; d: number }>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
    );
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await db.close();
    rounds.push({
      floorSeconds: floor.seconds,
      seconds: r.seconds,
      peakRssMb: r.maxRssKb / 1024,
      rows: Number(c?.n),
      distinct: Number(c?.d),
      left: await push.llen('usage'),
      bytesPerEvent: statSync(dbPath).size / n,
    });
  }
  return {
    n,
    rounds,
    floorSeconds: median(rounds.map((r) => r.floorSeconds)),
    seconds: median(rounds.map((r) => r.seconds)),
    ratio: median(rounds.map((r) => r.seconds / r.floorSeconds)),
    peakRssMb: Math.max(...rounds.map((r) => r.peakRssMb)),
    inProcessFloorSeconds,
  };
}

if (import.meta.main) {
  const r = await collectorEndToEnd(Number(process.env.MONITOR_E2E_EVENTS ?? 200_000));
  console.log(JSON.stringify(r, null, 1));
}
