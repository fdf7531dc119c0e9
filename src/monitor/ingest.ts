// Batched ingest: parse, quarantine what is malformed, dedupe (unique (ts, dedupe_key), so replays are
// harmless), insert events, failure rows and rollup deltas in ONE transaction. The caller awaits each
// batch before taking the next one: that is the backpressure.
import type { Clock } from '../domain/time.ts';
import type { Db, SqlValue } from '../store/db.ts';
import { Dictionary, type DictKind } from './dictionary.ts';
import { CACHE_STATES, type UsageEvent } from './event.ts';
import { BUCKET_COUNT, latencyBucket } from './latency.ts';
import { FAILED_ONLY, latencyClass, PAIR_DIMS, PAIR_KEY, PAIRS, pairMark, SMALL_DIM2 } from './pairs.ts';
import { dedupeKeyOf, parseUsageRecord } from './record.ts';
import { ROLLUP_SUMS } from './rollup-sums.ts';
import { maskSecrets } from './sanitize.ts';

export const GRAIN_MINUTE = 60_000;
export const GRAIN_HOUR = 3_600_000;
/** Day rollups (UTC days) keep long ranges ("last 30 days") to a few thousand rows. */
export const GRAIN_DAY = 86_400_000;
/** Rollup dimensions. Every rollup row also carries provider, model and service tier. */
export const DIMS = { total: 0, account: 1, apiKey: 2, status: 3, project: 4 } as const;
export type Dim = keyof typeof DIMS;

const EVENT_COLUMNS = [
  'ts',
  'dedupe_key',
  'status',
  'failed',
  'latency_ms',
  'ttft_ms',
  'provider_id',
  'executor_id',
  'model_id',
  'alias_id',
  'endpoint_id',
  'account_id',
  'auth_type_id',
  'api_key_id',
  'project_id',
  'failure_type_id',
  'effort_id',
  'tier_id',
  'cache_state',
  'input_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cached_tokens',
  'cache_creation_tokens',
  'total_tokens',
  'request_id',
];
const ROLLUP_KEY = ['grain', 'bucket', 'dim', 'dim_value', 'provider_id', 'model_id', 'tier_id'];
// Multi-row statements come in a few fixed sizes only (a batch is cut 256, 256, …, 64, 16, 4, 1), so a
// handful of prepared statements serve every batch: one per row count would fill the statement cache
// with hundreds of huge statements (tens of MB of native memory).
const CHUNK_SIZES = [256, 64, 16, 4, 1];
const MAX_QUARANTINE_BYTES = 64 * 1024;

export interface IngestResult {
  received: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
}

/** Records parsed and waiting for their commit. */
export interface ParsedBatch {
  events: UsageEvent[];
  bad: Array<{ raw: string; reason: string }>;
  received: number;
}

export const newBatch = (): ParsedBatch => ({ events: [], bad: [], received: 0 });

type KeyedRow = { id: number; ts: number; k: string };

export interface InsertedEvent {
  id: number;
  event: UsageEvent;
}

export interface IngestOptions {
  db: Db;
  clock: Clock;
  keyHashSecret: string;
  /** Called after each commit with the new (not duplicate) events, e.g. for the realtime stream. */
  onInserted?: (events: InsertedEvent[]) => void;
}

const sqlCache = new Map<string, string>();
const insertSql = (table: string, columns: string[], rows: number, tail = ''): string => {
  const k = `${table}|${rows}|${tail}`;
  let sql = sqlCache.get(k);
  if (sql === undefined) {
    const one = `(${columns.map(() => '?').join(',')})`;
    sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES ${Array.from({ length: rows }, () => one).join(',')}${tail}`;
    sqlCache.set(k, sql);
  }
  return sql;
};

/**
 * Cuts `items` into runs of the fixed CHUNK_SIZES and sends one statement per run before awaiting any:
 * a connection on another thread (or PostgreSQL) works through them while this thread goes on.
 */
async function forChunks<T>(items: readonly T[], fn: (chunk: readonly T[]) => Promise<void>): Promise<void> {
  const sent: Array<Promise<void>> = [];
  let i = 0;
  for (const size of CHUNK_SIZES) {
    while (items.length - i >= size) {
      sent.push(fn(items.slice(i, i + size)));
      i += size;
    }
  }
  await Promise.all(sent);
}

const ROLLUP_UPSERT_TAIL = ` ON CONFLICT (${ROLLUP_KEY.join(',')}) DO UPDATE SET ${ROLLUP_SUMS.map(
  (c) => `${c} = mon_rollup.${c} + excluded.${c}`,
).join(', ')}`;

const PAIR_UPSERT_TAIL = ` ON CONFLICT (${PAIR_KEY.join(',')}) DO UPDATE SET ${ROLLUP_SUMS.map(
  (c) => `${c} = mon_rollup_pair.${c} + excluded.${c}`,
).join(', ')}`;

export class MonitorIngest {
  readonly db: Db;
  readonly dict: Dictionary;
  private readonly clock: Clock;
  private readonly secret: string;
  private readonly onInserted?: (events: InsertedEvent[]) => void;
  /** Lifetime counters (plain numbers; the metrics room exports them). */
  readonly counters: { received: number; inserted: number; duplicates: number; quarantined: number; batches: number };

  constructor(options: IngestOptions, counters?: MonitorIngest['counters']) {
    this.db = options.db;
    this.dict = new Dictionary(options.db);
    this.clock = options.clock;
    this.secret = options.keyHashSecret;
    this.onInserted = options.onInserted;
    this.counters = counters ?? { received: 0, inserted: 0, duplicates: 0, quarantined: 0, batches: 0 };
  }

  /**
   * This ingest writing through another connection to the same database (the collector's storage
   * thread): same key secret, same listener, same counters.
   */
  through(db: Db): MonitorIngest {
    return new MonitorIngest(
      { db, clock: this.clock, keyHashSecret: this.secret, onInserted: this.onInserted },
      this.counters,
    );
  }

  /** Parses records into `batch` (the collector does this while the next pop is on the wire). */
  parseInto(batch: ParsedBatch, records: readonly unknown[]): void {
    for (const record of records) {
      const raw = Buffer.isBuffer(record) ? record.toString('utf8') : record;
      const r = parseUsageRecord(raw, { keyHashSecret: this.secret });
      if (r.ok) batch.events.push(r.event);
      else
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
    return this.store(batch.events, batch.bad, batch.received);
  }

  /** Stores already-parsed events (bench and tests generate these directly). */
  async ingestEvents(events: readonly UsageEvent[]): Promise<IngestResult> {
    return this.store(events, [], events.length);
  }

  private async store(
    events: readonly UsageEvent[],
    bad: Array<{ raw: string; reason: string }>,
    received: number,
  ): Promise<IngestResult> {
    // Duplicates, inside the batch or with stored events, are dropped by the unique (ts, dedupe_key)
    // index (the first one stays); a batch with any is matched back by key below.
    await this.intern(events);
    const now = this.clock();
    const inserted: InsertedEvent[] = [];
    let quarantined = 0;
    await this.db.transaction(async (tx) => {
      // Asked now, with the inserts: the rollups need it once they are done (src/monitor/pairs.ts).
      const mark = pairMark(tx);
      mark.catch(() => {}); // awaited by addRollups; an insert's failure is the error to report
      if (tx.dialect === 'sqlite') await this.insertNumbered(tx, events, inserted);
      else await this.insertReturning(tx, events, inserted);
      const failures = inserted.filter((x) => x.event.failed);
      // Failure rows, bodies and rollups go out together; none depends on another's answer.
      const storeFailures = forChunks(failures, async (chunk) => {
        const summary: SqlValue[] = [];
        for (const { id, event: e } of chunk)
          summary.push(id, e.failure?.errorType ?? null, e.failure?.errorCode ?? null, e.failure?.message ?? null);
        await tx.run(
          insertSql('mon_failure', ['event_id', 'error_type', 'error_code', 'message'], chunk.length),
          summary,
        );
      });
      // Stored masked: a database dump must not hand out the tokens an upstream echoed back.
      const bodies = failures.filter((x) => x.event.failureBody);
      const storeBodies = forChunks(bodies, async (chunk) => {
        const raw: SqlValue[] = [];
        for (const { id, event: e } of chunk)
          raw.push(id, maskSecrets((e.failureBody as string).slice(0, MAX_QUARANTINE_BYTES)));
        await tx.run(insertSql('mon_failure_raw', ['event_id', 'body'], chunk.length), raw);
      });
      await Promise.all([
        storeFailures,
        storeBodies,
        this.addRollups(tx, inserted, mark),
        addLateKeys(tx, inserted, mark),
      ]);
      for (const b of bad) {
        const r = await tx.run(
          'INSERT INTO mon_quarantine (received_at, content_key, reason, raw) VALUES (?, ?, ?, ?) ON CONFLICT (content_key) DO NOTHING',
          [now, dedupeKeyOf(null, b.raw), b.reason.slice(0, 500), maskSecrets(b.raw.slice(0, MAX_QUARANTINE_BYTES))],
        );
        quarantined += r.changes;
      }
    });
    const result: IngestResult = {
      received,
      inserted: inserted.length,
      duplicates: events.length - inserted.length,
      quarantined: bad.length,
    };
    this.counters.received += received;
    this.counters.inserted += result.inserted;
    this.counters.duplicates += result.duplicates;
    this.counters.quarantined += quarantined;
    this.counters.batches++;
    if (inserted.length > 0 && this.onInserted) {
      try {
        this.onInserted(inserted);
      } catch {
        // A listener's failure must not fail a committed batch.
      }
    }
    return result;
  }

  private async intern(events: readonly UsageEvent[]): Promise<void> {
    const d = this.dict;
    const values: Array<[DictKind, string]> = [];
    const keys: Array<{ hash: string; label: string }> = [];
    // Only uncached values are collected: after warm-up this loop allocates nothing.
    const add = (kind: DictKind, v: string | null) => {
      if (v !== null && !d.has(kind, v)) values.push([kind, v]);
    };
    for (const e of events) {
      add('provider', e.provider);
      add('executor', e.executor);
      add('model', e.model);
      add('alias', e.alias);
      add('endpoint', e.endpoint);
      add('account', e.authIndex);
      add('authType', e.authType);
      add('project', e.project);
      add('failureType', e.failureType);
      add('effort', e.reasoningEffort);
      add('tier', e.serviceTier);
      if (e.apiKeyHash && !d.hasApiKey(e.apiKeyHash)) keys.push({ hash: e.apiKeyHash, label: e.apiKeyLabel ?? '****' });
    }
    if (values.length > 0 || keys.length > 0) await d.ensure(values, keys);
  }

  /**
   * SQLite: the largest id before and the inserts go out together and return no rows. Under this
   * transaction's write lock nobody else inserts, so with no duplicate the new rows took the ids
   * right after it, in order (the rowid SQLite picks is one past the largest).
   */
  private async insertNumbered(tx: Db, events: readonly UsageEvent[], inserted: InsertedEvent[]): Promise<void> {
    const top = tx.get<{ id: number | null }>('SELECT MAX(id) AS id FROM mon_event');
    top.catch(() => {}); // awaited below; if an insert fails first, that is the error to report
    let stored = 0;
    await forChunks(events, async (chunk) => {
      const r = await tx.run(
        insertSql('mon_event', EVENT_COLUMNS, chunk.length, ' ON CONFLICT (ts, dedupe_key) DO NOTHING'),
        this.eventParams(chunk),
      );
      stored += r.changes;
    });
    const before = Number((await top)?.id ?? 0);
    if (stored === events.length) {
      for (let i = 0; i < events.length; i++) inserted.push({ id: before + 1 + i, event: events[i] });
      return;
    }
    if (stored === 0) return;
    // Some were duplicates: which ones were stored, by key.
    const rows = await tx.query<KeyedRow>('SELECT id, ts, CAST(dedupe_key AS TEXT) AS k FROM mon_event WHERE id > ?', [
      before,
    ]);
    this.matchByKey(events, rows, inserted);
    inserted.sort((a, b) => a.id - b.id);
  }

  /** PostgreSQL: ids come from the sequence, read back with RETURNING. */
  private async insertReturning(tx: Db, events: readonly UsageEvent[], inserted: InsertedEvent[]): Promise<void> {
    let outOfOrder = false;
    await forChunks(events, async (chunk) => {
      const rows = await tx.query<{ id: number }>(
        insertSql('mon_event', EVENT_COLUMNS, chunk.length, ' ON CONFLICT (ts, dedupe_key) DO NOTHING RETURNING id'),
        this.eventParams(chunk),
      );
      if (rows.length === 0) return;
      if (rows.length === chunk.length) {
        // Nothing was a duplicate: ids come back in insert order on both backends' multi-row VALUES
        // (the ids grow with it; checked, and matched by key when not).
        let ordered = true;
        for (let j = 1; j < rows.length && ordered; j++) ordered = Number(rows[j].id) > Number(rows[j - 1].id);
        if (ordered) {
          for (let j = 0; j < chunk.length; j++) inserted.push({ id: Number(rows[j].id), event: chunk[j] });
          return;
        }
      }
      // Some were duplicates: which ones, by key. Later chunks may have been matched meanwhile.
      outOfOrder = true;
      const keyed = await tx.query<KeyedRow>(
        `SELECT id, ts, CAST(dedupe_key AS TEXT) AS k FROM mon_event WHERE id IN (${rows.map(() => '?').join(',')})`,
        rows.map((r) => r.id),
      );
      this.matchByKey(chunk, keyed, inserted);
    });
    if (outOfOrder) inserted.sort((a, b) => a.id - b.id);
  }

  /** One chunk's parameters for the mon_event insert (EVENT_COLUMNS, row after row). */
  private eventParams(chunk: readonly UsageEvent[]): SqlValue[] {
    const params: SqlValue[] = [];
    for (const e of chunk) this.pushEventParams(params, e);
    return params;
  }

  private pushEventParams(p: SqlValue[], e: UsageEvent): void {
    const d = this.dict;
    p.push(
      e.timestamp,
      e.dedupeKey,
      e.status,
      e.failed ? 1 : 0,
      e.latencyMs,
      e.ttftMs,
      d.id('provider', e.provider),
      d.id('executor', e.executor),
      d.id('model', e.model),
      d.id('alias', e.alias),
      d.id('endpoint', e.endpoint),
      d.id('account', e.authIndex),
      d.id('authType', e.authType),
      d.apiKeyId(e.apiKeyHash),
      d.id('project', e.project),
      d.id('failureType', e.failureType),
      d.id('effort', e.reasoningEffort),
      d.id('tier', e.serviceTier),
      CACHE_STATES.indexOf(e.cacheState),
      e.tokens.input,
      e.tokens.output,
      e.tokens.reasoning,
      e.tokens.cached,
      e.tokens.cacheCreation,
      e.tokens.total,
      e.requestId,
    );
  }

  // Rollup deltas are summed here for the rows this transaction inserted and upserted in the same
  // transaction, so rollups always agree with the raw events. Minute rollups hold totals only (a
  // per-account minute rollup would be bigger than the raw rows); hour rollups hold every dimension.
  private async addRollups(tx: Db, inserted: readonly InsertedEvent[], markAsked: Promise<number>): Promise<void> {
    if (inserted.length === 0) return;
    const d = this.dict;
    const width = ROLLUP_SUMS.length;
    type Slot = { key: number[]; sums: Float64Array };
    const all: Slot[] = [];
    // Hot loop: numeric keys only. (provider, model, tier) becomes a small per-batch index, and each
    // rollup bucket of each grain has its own map keyed by dim + 8 × (value + 2^31 × that index).
    const tails = new Map<string, number>();
    const buckets = [
      new Map<number, Map<number, Slot>>(),
      new Map<number, Map<number, Slot>>(),
      new Map<number, Map<number, Slot>>(),
    ];
    const grains = [GRAIN_MINUTE, GRAIN_HOUR, GRAIN_DAY];
    const pairs: Slot[] = [];
    const mark = await markAsked;
    const pairBuckets = [new Map<number, Map<number | string, Slot>>(), new Map<number, Map<number | string, Slot>>()];
    const pairValues = new Array<number>(16).fill(0);
    const dimValues = [0, 0, 0, 0, 0];
    const TWO31 = 2 ** 31;
    for (const { event: e } of inserted) {
      const prov = d.id('provider', e.provider) ?? 0;
      const model = d.id('model', e.model) ?? 0;
      const tier = d.id('tier', e.serviceTier) ?? 0;
      const tailKey = `${prov}|${model}|${tier}`;
      let tail = tails.get(tailKey);
      if (tail === undefined) {
        tail = tails.size;
        tails.set(tailKey, tail);
      }
      const lat = e.latencyMs;
      const hist = lat === null ? -1 : HIST0 + latencyBucket(lat);
      dimValues[DIMS.account] = d.id('account', e.authIndex) ?? 0;
      dimValues[DIMS.apiKey] = d.apiKeyId(e.apiKeyHash) ?? 0;
      dimValues[DIMS.status] = e.status;
      dimValues[DIMS.project] = d.id('project', e.project) ?? 0;
      // Grain 0 (minute) holds the total only; hour and day hold every dimension.
      for (let g = 0; g < 3; g++) {
        const grain = grains[g];
        const bucket = e.timestamp - (e.timestamp % grain);
        let inBucket = buckets[g].get(bucket);
        if (inBucket === undefined) {
          inBucket = new Map();
          buckets[g].set(bucket, inBucket);
        }
        const dims = g === 0 ? 1 : 5;
        for (let dim = 0; dim < dims; dim++) {
          const value = dim === 0 ? 0 : dimValues[dim];
          const k = dim + 8 * (value + TWO31 * tail);
          let slot = inBucket.get(k);
          if (slot === undefined) {
            slot = { key: [grain, bucket, dim, value, prov, model, tier], sums: new Float64Array(width) };
            inBucket.set(k, slot);
            all.push(slot);
          }
          addEvent(slot.sums, e, hist);
        }
      }
      // Pair rollups (src/monitor/pairs.ts) are built by the compactor for closed buckets; only an
      // event for a bucket already compacted (before the mark) is folded here. Keyed per (grain,
      // bucket) by pair index + both values + tail: numbers for small second values, else strings.
      if (e.timestamp >= mark) continue;
      pairValues[PAIR_DIMS.account] = dimValues[DIMS.account];
      pairValues[PAIR_DIMS.apiKey] = dimValues[DIMS.apiKey];
      pairValues[PAIR_DIMS.cache] = CACHE_STATES.indexOf(e.cacheState);
      pairValues[PAIR_DIMS.latency] = lat === null ? -1 : latencyClass(lat);
      pairValues[PAIR_DIMS.status] = e.status;
      pairValues[PAIR_DIMS.failureType] = d.id('failureType', e.failureType) ?? 0;
      for (let pi = 0; pi < PAIRS.length; pi++) {
        const pair = PAIRS[pi];
        if (!e.failed && FAILED_ONLY.has(pair.dim2)) continue;
        const v1 = pairValues[pair.dim];
        const v2 = pairValues[pair.dim2];
        const k = SMALL_DIM2.has(pair.dim2)
          ? pi + 32 * (v2 + 1 + 32 * (v1 + TWO31 * tail))
          : `${pi}|${v1}|${v2}|${tail}`;
        for (const grain of pair.grains) {
          const bucket = e.timestamp - (e.timestamp % grain);
          if (bucket + grain > mark) continue;
          const byGrain = grain === GRAIN_HOUR ? pairBuckets[0] : pairBuckets[1];
          let inBucket = byGrain.get(bucket);
          if (inBucket === undefined) {
            inBucket = new Map();
            byGrain.set(bucket, inBucket);
          }
          let slot = inBucket.get(k);
          if (slot === undefined) {
            slot = {
              key: [grain, bucket, pair.dim, v1, pair.dim2, v2, prov, model, tier],
              sums: new Float64Array(width),
            };
            inBucket.set(k, slot);
            pairs.push(slot);
          }
          addEvent(slot.sums, e, hist);
        }
      }
    }
    const pairColumns = [...PAIR_KEY, ...ROLLUP_SUMS];
    const storePairs = forChunks(pairs, async (chunk) => {
      const params: SqlValue[] = [];
      for (const s of chunk) {
        for (const v of s.key) params.push(v);
        for (const v of s.sums) params.push(v);
      }
      await tx.run(insertSql('mon_rollup_pair', pairColumns, chunk.length, PAIR_UPSERT_TAIL), params);
    });
    const columns = [...ROLLUP_KEY, ...ROLLUP_SUMS];
    const storeRollups = forChunks(all, async (chunk) => {
      const params: SqlValue[] = [];
      for (const s of chunk) {
        for (const v of s.key) params.push(v);
        for (const v of s.sums) params.push(v);
      }
      await tx.run(insertSql('mon_rollup', columns, chunk.length, ROLLUP_UPSERT_TAIL), params);
    });
    await Promise.all([storePairs, storeRollups]);
  }

  /** Which events the stored rows are, by (ts, dedupe key); of duplicates the first one. */
  private matchByKey(chunk: readonly UsageEvent[], rows: readonly KeyedRow[], inserted: InsertedEvent[]): void {
    const byKey = new Map<string, UsageEvent>();
    for (const e of chunk) {
      const k = `${e.timestamp}|${e.dedupeKey}`;
      if (!byKey.has(k)) byKey.set(k, e);
    }
    for (const r of rows) {
      const e = byKey.get(`${Number(r.ts)}|${r.k}`);
      if (e) inserted.push({ id: Number(r.id), event: e });
    }
  }
}

const HIST0 = ROLLUP_SUMS.indexOf('h0');

/**
 * Events for an hour the compactor has already closed (before the mark) get their key lookup row here,
 * as the compactor gave the rest of that hour (migration 250). Rare: late or imported history.
 */
async function addLateKeys(tx: Db, inserted: readonly InsertedEvent[], markAsked: Promise<number>): Promise<void> {
  const mark = await markAsked;
  const late = inserted.filter((x) => x.event.timestamp < mark);
  await forChunks(late, async (chunk) => {
    const params: SqlValue[] = [];
    for (const { id, event } of chunk) params.push(event.dedupeKey, id);
    await tx.run(
      insertSql('mon_key_lookup', ['dedupe_key', 'event_id'], chunk.length, ' ON CONFLICT DO NOTHING'),
      params,
    );
  });
}

/** Adds one event to a rollup row's sums (ROLLUP_SUMS order); `hist` is its histogram column or -1. */
function addEvent(s: Float64Array, e: UsageEvent, hist: number): void {
  s[0]++;
  if (e.failed) s[1]++;
  const lat = e.latencyMs;
  if (lat !== null) {
    s[2]++;
    s[3] += lat;
    s[hist]++;
  }
  if (e.ttftMs !== null) {
    s[4]++;
    s[5] += e.ttftMs;
  }
  const t = e.tokens;
  s[6] += t.input;
  s[7] += t.output;
  s[8] += t.reasoning;
  s[9] += t.cached;
  s[10] += t.cacheCreation;
  s[11] += t.total;
  if (e.cacheState === 'hit') s[12]++;
}
