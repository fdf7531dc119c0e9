// Starts the collector for a configured source: used by `codex-fleet monitor run` and by `serve` when
// monitoring is configured. Picks the source, the spool file in the data directory, the lease, and
// runs retention once an hour.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CpaClient } from '../cpa/client.ts';
import type { CpaServerConfig } from '../cpa/types.ts';
import type { Clock } from '../domain/time.ts';
import type { Db } from '../store/db.ts';
import { LeaseStore } from '../store/lease.ts';
import { Collector, type StartResult } from './collector.ts';
import { HttpQueueSource } from './collectors/http-queue.ts';
import { RespSource } from './collectors/resp.ts';
import type { UsageSource } from './collectors/types.ts';
import { compactPairs } from './compact.ts';
import { onParentGone } from './heap.ts';
import { applyRetention, type RetentionResult } from './retention.ts';
import type { MonitorService } from './service.ts';
import { loadRetention } from './settings.ts';
import { openStorageThread } from './storage-thread.ts';

export const COLLECTOR_VIAS = ['resp', 'subscribe', 'http'] as const;
export type CollectorVia = (typeof COLLECTOR_VIAS)[number];

export type CollectorTarget =
  | { kind: 'cpa'; server: CpaServerConfig; via: CollectorVia }
  /** A plain Redis list (load tests, or a relay in front of CPA). */
  | { kind: 'redis'; host: string; port: number; key?: string; queue?: string };

export function sourceFor(target: CollectorTarget): UsageSource {
  if (target.kind === 'redis')
    return new RespSource({ host: target.host, port: target.port, key: target.key, queue: target.queue });
  const u = new URL(target.server.url);
  if (target.via === 'http') return new HttpQueueSource(new CpaClient(target.server), target.server.url);
  return new RespSource({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    key: target.server.managementKey,
    mode: target.via === 'subscribe' ? 'subscribe' : 'lpop',
  });
}

/**
 * Settings for the collector's SQLite connection. The spool is emptied after each commit, so the
 * commit must survive a power cut (synchronous FULL). The dedupe index takes keys in random order:
 * a 16 MB page cache keeps its hot pages in memory (SQLite's default is 2 MB).
 */
export async function tuneWriter(db: Db): Promise<void> {
  if (db.dialect !== 'sqlite') return;
  await db.exec('PRAGMA synchronous = FULL');
  await db.exec('PRAGMA cache_size = -16384');
}

export function spoolPathFor(dataDir: string, queueId: string): string {
  return join(dataDir, `monitor-spool-${createHash('sha256').update(queueId).digest('hex').slice(0, 12)}.jsonl`);
}

export interface RunningCollector {
  collector: Collector;
  started: StartResult;
  /** Resolves when the loop ends (stop(), lost lease or a rejected key). */
  done: Promise<void>;
  lastRetention: () => RetentionResult | null;
  stop(): Promise<void>;
}

export async function startCollector(o: {
  db: Db;
  monitor: MonitorService;
  dataDir: string;
  target: CollectorTarget;
  holder?: string;
  clock?: Clock;
  retentionEveryMs?: number;
  /** How often closed hours get their pair rollups (default one minute). */
  compactEveryMs?: number;
  /** false: do not start the loop (the caller drives runOnce, e.g. `monitor run --once`). */
  loop?: boolean;
  /**
   * Store through a SQLite connection on a worker thread (ignored for PostgreSQL and in-memory
   * databases). `monitor run` does: throughput is its job. A thread costs ~20 MB RSS (~38 MB when run
   * from the TypeScript sources, which the thread strips again), which `serve --collect` cannot spare
   * under its 200 MB, so the server stores on its own thread.
   */
  storageThread?: boolean;
}): Promise<RunningCollector> {
  const clock = o.clock ?? Date.now;
  // With storageThread the collector gets its own connection on a worker thread: SQLite blocks the
  // thread it runs on, and there it writes one batch while this thread pops and parses the next.
  // Everything the collector stores (events, its lease, retention, pair rollups) goes through it.
  const thread = o.storageThread && o.db.file !== undefined ? openStorageThread(o.db.file) : null;
  const storage = thread?.db ?? o.db;
  const closeStorage = async () => {
    if (storage !== o.db) await storage.close();
  };
  await tuneWriter(storage);
  const source = sourceFor(o.target);
  const collector = new Collector({
    source,
    ingest: thread ? o.monitor.ingest.storingThrough(thread.store) : o.monitor.ingest,
    leases: new LeaseStore(storage, clock),
    spoolPath: spoolPathFor(o.dataDir, source.queueId),
    // Bigger batches cut the per-commit work (COMMIT, rollup upserts) for `monitor run`; the server,
    // which holds the dashboard too, keeps its peak RSS lower with 5,000.
    maxBatch: storage === o.db ? 5000 : 10_000,
    holder: o.holder,
    clock,
  });
  // A relaunched `monitor run` dies with its parent, but only once nothing popped is outside the spool.
  const unregister = onParentGone((die) => collector.haltSoon(die));
  const started = await collector.start();
  if (!started.ok) {
    unregister();
    await source.close();
    await closeStorage();
    return { collector, started, done: Promise.resolve(), lastRetention: () => null, stop: async () => {} };
  }
  let retention: RetentionResult | null = null;
  const runRetention = async () => {
    try {
      retention = await applyRetention(storage, await loadRetention(o.monitor.settings), clock());
    } catch (error) {
      collector.stats.errors++;
      collector.stats.lastError = `retention: ${(error as Error).message}`;
    }
  };
  const timer = setInterval(runRetention, o.retentionEveryMs ?? 3_600_000);
  timer.unref();
  // Pair rollups for each closed hour (src/monitor/compact.ts): a few statements over one hour of
  // events, once a minute; the first calls catch up on history a day-sized step at a time.
  let compaction: Promise<void> | null = null;
  const runCompaction = () => {
    compaction ??= compactPairs(storage, clock(), 24)
      .then(() => undefined)
      .catch((error: Error) => {
        collector.stats.errors++;
        collector.stats.lastError = `pair rollups: ${error.message}`;
      })
      .finally(() => {
        compaction = null;
      });
    return compaction;
  };
  const compactTimer = setInterval(runCompaction, o.compactEveryMs ?? 60_000);
  compactTimer.unref();
  void runCompaction();
  const done = o.loop === false ? Promise.resolve() : collector.run();
  return {
    collector,
    started,
    done,
    lastRetention: () => retention,
    stop: async () => {
      clearInterval(timer);
      clearInterval(compactTimer);
      await compaction;
      unregister();
      await collector.stop();
      await closeStorage();
    },
  };
}
