// The collector's storage thread (`monitor run`): the plain SQLite worker loop plus one procedure,
// storeEvents, which stores a parsed batch (EventColumns, its buffers moved here, not copied) with
// EventStore on this thread's connection. Parsing stays on the main thread; everything after it runs
// here, so the two threads share the work of a batch while the next one is popped.
import { serveSqlite } from '../store/sqlite-worker-loop.ts';
import type { EventColumns } from './event-columns.ts';
import { type BadRecord, EventStore } from './event-store.ts';

let store: EventStore | null = null;

serveSqlite({
  storeEvents: async (db, arg) => {
    const { columns, bad, now } = arg as { columns: EventColumns; bad: BadRecord[]; now: number };
    store ??= new EventStore(db);
    return store.store(columns, bad, now);
  },
});
