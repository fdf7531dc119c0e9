// Wires the monitor parts over one store: ingest (writer), queries (reader, may be another
// connection), settings, and an emitter that announces committed events for the realtime view.
import { EventEmitter } from 'node:events';
import type { Clock } from '../domain/time.ts';
import type { Db } from '../store/db.ts';
import { SettingsRepo } from '../store/settings-repo.ts';
import { Dictionary } from './dictionary.ts';
import { type InsertedEvent, MonitorIngest } from './ingest.ts';
import type { PriceTable } from './prices.ts';
import { MonitorQueries } from './queries.ts';
import { keyHashSecret, loadPriceTable } from './settings.ts';

export interface MonitorServiceOptions {
  /** Writer connection (ingest). */
  db: Db;
  /** Reader connection for the views; defaults to db. With SQLite WAL a second connection never waits for ingest. */
  readDb?: Db;
  clock?: Clock;
  /** How long a loaded price table is reused before re-reading settings (another process may edit it). */
  priceCacheMs?: number;
}

export interface MonitorService {
  ingest: MonitorIngest;
  queries: MonitorQueries;
  settings: SettingsRepo;
  /** Emits 'events' with InsertedEvent[] after each commit. */
  emitter: EventEmitter;
  prices(): Promise<PriceTable>;
  invalidatePrices(): void;
}

export async function createMonitorService(o: MonitorServiceOptions): Promise<MonitorService> {
  const clock = o.clock ?? Date.now;
  const settings = new SettingsRepo(o.db, clock);
  const emitter = new EventEmitter();
  emitter.setMaxListeners(1000);
  const ttl = o.priceCacheMs ?? 5000;
  let cached: { table: PriceTable; at: number } | null = null;
  const prices = async (): Promise<PriceTable> => {
    const now = clock();
    if (cached && now - cached.at < ttl) return cached.table;
    cached = { table: await loadPriceTable(new SettingsRepo(o.readDb ?? o.db, clock)), at: now };
    return cached.table;
  };
  const ingest = new MonitorIngest({
    db: o.db,
    clock,
    keyHashSecret: await keyHashSecret(settings),
    onInserted: (events: InsertedEvent[]) => emitter.emit('events', events),
    listening: () => emitter.listenerCount('events') > 0,
  });
  const queries = new MonitorQueries({
    db: o.readDb ?? o.db,
    dict: o.readDb ? new Dictionary(o.readDb) : ingest.dict,
    prices,
    clock,
  });
  return {
    ingest,
    queries,
    settings,
    emitter,
    prices,
    invalidatePrices: () => {
      cached = null;
    },
  };
}
