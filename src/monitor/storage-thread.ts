// Opens the collector's storage thread (monitor-storage-thread.ts): a Db on that thread's connection
// (for the lease, retention and compaction) and the RemoteStore that hands it parsed batches.
import type { SqliteDb } from '../store/sqlite.ts';
import { openSqliteInWorker, threadEntry } from '../store/sqlite-worker.ts';
import { transferables } from './event-columns.ts';
import type { StoreOutcome } from './event-store.ts';
import type { RemoteStore } from './ingest.ts';

export function openStorageThread(file: string): { db: SqliteDb; store: RemoteStore } {
  const db = openSqliteInWorker(file, {}, threadEntry('monitor-storage-thread', import.meta.url));
  const store: RemoteStore = (columns, bad, now) =>
    db.procedure<StoreOutcome>('storeEvents', { columns, bad, now }, transferables(columns));
  return { db, store };
}
