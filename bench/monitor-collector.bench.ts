// The collector end to end against a real redis-server, two ways:
// 1. `codex-fleet monitor run --once` (the real CLI process, no Node flags) draining 200k records,
//    beside the floor process (LPOP batches of 1,000 + JSON.parse, storing nothing), both timed spawn to
//    exit in alternating rounds: rate, ratio, peak RSS, exact row count, bytes per event (bench/monitor-e2e.ts).
// 2. A collector process killed (SIGKILL) between pop and commit halfway through, restarted at once
//    (fast takeover: same host, process gone), a reader polling the views the whole time: events lost,
//    events doubled, whether the restart was refused.
// MONITOR_BENCH_QUEUE sets the size of run 2 (default 200,000). Skipped (with a row) without redis-server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMonitorService } from '../src/monitor/service.ts';
import { openStore } from '../src/store/open.ts';
import { pushUsageRecords } from '../test/support/monitor-events.ts';
import { tryStartRedis } from '../test/support/redis.ts';
import { collectorEndToEnd } from './monitor-e2e.ts';
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

async function endToEndRows(): Promise<BenchRow[]> {
  const n = Number(process.env.MONITOR_E2E_EVENTS ?? 200_000);
  const r = await collectorEndToEnd(n);
  if ('skip' in r) return [{ name: 'monitor run --once end to end', value: 'skipped', unit: r.skip }];
  const rate = n / r.seconds;
  const rounds = r.rounds.length;
  const exact = r.rounds.every((x) => x.rows === n && x.distinct === n && x.left === 0);
  const bytes = Math.max(...r.rounds.map((x) => x.bytesPerEvent));
  return [
    {
      name: `monitor floor process: LPOP×1000 + JSON.parse of ${n} records, spawn to exit (median of ${rounds})`,
      value: n / r.floorSeconds,
      unit: 'events/s',
      target: 'info',
    },
    {
      name: 'monitor floor, the same drain inside the bench process (no start, no client load)',
      value: n / r.inProcessFloorSeconds,
      unit: 'events/s',
      target: 'info',
    },
    {
      name: `monitor run --once (CLI process) over Redis, ${n} records (median of ${rounds})`,
      value: rate,
      unit: 'events/s',
      target: '≥ 50000',
      ok: rate >= 50_000,
    },
    {
      name: 'monitor run --once: time vs the floor process (median of the rounds)',
      value: r.ratio,
      unit: '×',
      target: '≤ 4',
      ok: r.ratio <= 4,
    },
    {
      name: 'monitor run --once: time vs the in-process drain',
      value: r.seconds / r.inProcessFloorSeconds,
      unit: '×',
      target: 'info',
    },
    {
      name: 'monitor run --once: rows stored (distinct), every round',
      value: r.rounds.map((x) => `${x.rows} (${x.distinct})`).join(', '),
      unit: 'rows',
      target: String(n),
      ok: exact,
    },
    {
      name: 'monitor run --once: peak RSS (no Node flags), largest round',
      value: r.peakRssMb,
      unit: 'MB',
      target: '≤ 200',
      ok: r.peakRssMb <= 200,
    },
    {
      name: 'monitor run --once: database bytes per event, largest round',
      value: bytes,
      unit: 'B',
      target: '≤ 200',
      ok: bytes <= 200,
    },
  ];
}

export default async function collectorBench(): Promise<BenchRow[]> {
  return [...(await endToEndRows()), ...(await killRestartRows())];
}

async function killRestartRows(): Promise<BenchRow[]> {
  const n = Number(process.env.MONITOR_BENCH_QUEUE ?? 200_000);
  const redis = await tryStartRedis();
  if ('skip' in redis) return [{ name: 'monitor collector end to end', value: 'skipped', unit: redis.skip }];
  const dir = mkdtempSync(join(tmpdir(), 'cf-moncoll-'));
  const dbPath = join(dir, 'c.db');
  try {
    const push = redis.client();
    await pushUsageRecords(push, n);
    // The schema first, so the reader can start right away. The reader is a store like the child's
    // (same secret key): a bare connection would seal the monitor's key-hash secret with a key only
    // this process holds, and the collector could not open it.
    const reader = await openStore({ databaseUrl: `sqlite:${dbPath}` });
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
    // Default holders (this host and pid) and a 15 s lease, as the product runs.
    const first = await runChild([
      dbPath,
      String(redis.port),
      join(dir, 'spool'),
      '-',
      'after-spool',
      crashBatch,
      '15000',
    ]);
    const second = await runChild([dbPath, String(redis.port), join(dir, 'spool'), '-', '', '', '15000']);
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
        // The harness runs from the sources with small batches, storing on its main thread, and its time
        // includes the kill, the replay and a second start: a check of the takeover, not of speed (the
        // collector's rate is `monitor run --once` above).
        name: 'monitor collector kill-and-restart harness: rate incl. kill, replay, restart, reader polling',
        value: n / seconds,
        unit: 'events/s',
        target: 'info',
      },
      { name: 'monitor collector: reader polls during the run', value: polls, unit: 'polls', target: 'info' },
      {
        name: 'monitor collector: immediate restart after SIGKILL',
        value: second.code === 0 ? 'took over' : `exit ${second.code}`,
        unit: '',
        target: 'took over',
        ok: second.code === 0,
      },
    ];
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
