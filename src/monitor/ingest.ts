// Batched ingest: parse, quarantine what is malformed, and store each batch in one transaction
// (event-store.ts), on this thread or on the collector's storage thread. The caller awaits each batch
// before taking the next one: that is the backpressure.
import type { Clock } from '../domain/time.ts';
import type { Db } from '../store/db.ts';
import { Dictionary } from './dictionary.ts';
import type { UsageEvent } from './event.ts';
import { ColumnsBuilder, columnsOf, type EventColumns, eventAt, type FailureCell } from './event-columns.ts';
import { type BadRecord, type DIMS, EventStore, type StoreOutcome } from './event-store.ts';
import { parseUsageRecord } from './record.ts';

export { DIMS, GRAIN_DAY, GRAIN_HOUR, GRAIN_MINUTE } from './event-store.ts';
export type Dim = keyof typeof DIMS;

export interface IngestResult {
  received: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
}

/** Records parsed and waiting for their commit. */
export interface ParsedBatch {
  columns: ColumnsBuilder;
  bad: BadRecord[];
  received: number;
  /** The oldest event's timestamp (for the collector's lag), null when none parsed. */
  oldest: number | null;
}

/** `capacity`: the records expected (the collector's batch size), so the columns need not grow. */
export const newBatch = (capacity?: number): ParsedBatch => ({
  columns: new ColumnsBuilder(capacity),
  bad: [],
  received: 0,
  oldest: null,
});

export interface InsertedEvent {
  id: number;
  event: UsageEvent;
}

/** Stores a batch elsewhere (the collector's storage thread) with EventStore.store's answer. */
export type RemoteStore = (columns: EventColumns, bad: BadRecord[], now: number) => Promise<StoreOutcome>;

export interface IngestOptions {
  db: Db;
  clock: Clock;
  keyHashSecret: string;
  /** Called after each commit with the new (not duplicate) events, e.g. for the realtime stream. */
  onInserted?: (events: InsertedEvent[]) => void;
  /** Whether onInserted has anyone to tell (the events are rebuilt only then); default yes. */
  listening?: () => boolean;
}

type Counters = { received: number; inserted: number; duplicates: number; quarantined: number; batches: number };

export class MonitorIngest {
  readonly db: Db;
  readonly dict: Dictionary;
  private readonly options: IngestOptions;
  private readonly local: EventStore;
  private readonly remote: RemoteStore | null;
  /** Lifetime counters (plain numbers; the metrics room exports them). */
  readonly counters: Counters;

  constructor(options: IngestOptions, counters?: Counters, remote?: RemoteStore) {
    this.options = options;
    this.db = options.db;
    this.dict = new Dictionary(options.db);
    this.local = new EventStore(options.db, this.dict);
    this.remote = remote ?? null;
    this.counters = counters ?? { received: 0, inserted: 0, duplicates: 0, quarantined: 0, batches: 0 };
  }

  /**
   * This ingest storing through `store` (the collector's storage thread, which holds its own
   * connection to the same database): same key secret, same listener, same counters.
   */
  storingThrough(store: RemoteStore): MonitorIngest {
    return new MonitorIngest(this.options, this.counters, store);
  }

  /** Parses records into `batch` (the collector does this while the next pop is on the wire). */
  parseInto(batch: ParsedBatch, records: readonly unknown[]): void {
    const secret = { keyHashSecret: this.options.keyHashSecret, requestKeyLater: true };
    for (const record of records) {
      const raw = Buffer.isBuffer(record) ? record.toString('utf8') : record;
      const r = parseUsageRecord(raw, secret);
      if (r.ok) {
        batch.columns.push(r.event);
        if (batch.oldest === null || r.event.timestamp < batch.oldest) batch.oldest = r.event.timestamp;
      } else
        batch.bad.push({ raw: typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw)), reason: r.reason });
    }
    batch.received += records.length;
  }

  /** Parses and stores raw records (JSON strings or decoded objects). */
  async ingestRaw(records: readonly unknown[]): Promise<IngestResult> {
    const batch = newBatch();
    this.parseInto(batch, records);
    return this.ingestParsed(batch);
  }

  /** Stores records parsed with parseInto. */
  async ingestParsed(batch: ParsedBatch): Promise<IngestResult> {
    return this.store(batch.columns.take(), batch.bad, batch.received);
  }

  /** Stores already-parsed events (bench and tests generate these directly). */
  async ingestEvents(events: readonly UsageEvent[]): Promise<IngestResult> {
    return this.store(columnsOf(events), [], events.length);
  }

  private async store(columns: EventColumns, bad: BadRecord[], received: number): Promise<IngestResult> {
    const { onInserted, listening } = this.options;
    const tell = onInserted !== undefined && (listening?.() ?? true);
    const n = columns.n;
    const now = this.options.clock();
    // A remote store takes the buffers; the listener's events are rebuilt from a copy.
    const kept = tell && this.remote ? copyColumns(columns) : columns;
    const out = this.remote ? await this.remote(columns, bad, now) : await this.local.store(columns, bad, now);
    const result: IngestResult = {
      received,
      inserted: out.inserted,
      duplicates: n - out.inserted,
      quarantined: bad.length,
    };
    this.counters.received += received;
    this.counters.inserted += result.inserted;
    this.counters.duplicates += result.duplicates;
    this.counters.quarantined += out.quarantined;
    this.counters.batches++;
    if (tell && out.inserted > 0) {
      const failures = new Map<number, FailureCell>(kept.failures.map((f) => [f.row, f]));
      const inserted = out.rows.map((row, j) => ({ id: out.ids[j], event: eventAt(kept, row, failures) }));
      try {
        onInserted?.(inserted);
      } catch {
        // A listener's failure must not fail a committed batch.
      }
    }
    return result;
  }
}

const copyColumns = (c: EventColumns): EventColumns => ({
  ...c,
  num: c.num.slice(),
  str: c.str.slice(),
  keys: c.keys.slice(),
});
