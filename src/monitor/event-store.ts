// Stores one batch of parsed events (EventColumns) in ONE transaction: events (duplicates dropped by the
// unique (ts, dedupe_key) index), failure rows, masked raw bodies, rollup deltas folded in memory (one
// upsert per touched rollup row), key lookups for late events, quarantined records. Runs wherever the
// connection is: on the caller's thread, or on the collector's storage thread (storage-thread.ts).
import type { Db, SqlValue } from '../store/db.ts';
import { Dictionary, type DictKind } from './dictionary.ts';
import { CACHE_STATES } from './event.ts';
import { type EventColumns, NUM_WIDTH, STR, STR_WIDTH } from './event-columns.ts';
import { latencyBucket } from './latency.ts';
import { FAILED_ONLY, latencyClass, PAIR_DIMS, PAIR_KEY, PAIRS, pairMark, SMALL_DIM2 } from './pairs.ts';
import { dedupeKeyOf, keyHigh } from './record.ts';
import { ROLLUP_SUMS, TOKEN_COLUMNS } from './rollup-sums.ts';
import { maskSecrets } from './sanitize.ts';

export const GRAIN_MINUTE = 60_000;
export const GRAIN_HOUR = 3_600_000;
/** Day rollups (UTC days) keep long ranges ("last 30 days") to a few thousand rows. */
export const GRAIN_DAY = 86_400_000;
/** Rollup dimensions. Every rollup row also carries provider, model and service tier. */
export const DIMS = { total: 0, account: 1, apiKey: 2, status: 3, project: 4 } as const;

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
  ...TOKEN_COLUMNS,
  'request_id',
];
/** The dictionary-coded event columns, in EVENT_COLUMNS order, by their string column. */
const ID_COLUMNS: ReadonlyArray<[number, DictKind | 'apiKey']> = [
  [STR.provider, 'provider'],
  [STR.executor, 'executor'],
  [STR.model, 'model'],
  [STR.alias, 'alias'],
  [STR.endpoint, 'endpoint'],
  [STR.account, 'account'],
  [STR.authType, 'authType'],
  [STR.apiKey, 'apiKey'],
  [STR.project, 'project'],
  [STR.failureType, 'failureType'],
  [STR.effort, 'effort'],
  [STR.tier, 'tier'],
];
const ROLLUP_KEY = ['grain', 'bucket', 'dim', 'dim_value', 'provider_id', 'model_id', 'tier_id'];
// Multi-row statements come in a few fixed sizes only (a batch is cut 256, 256, …, 64, 16, 4, 1), so a
// handful of prepared statements serve every batch: one per row count would fill the statement cache
// with hundreds of huge statements (tens of MB of native memory).
const CHUNK_SIZES = [256, 64, 16, 4, 1];
const MAX_QUARANTINE_BYTES = 64 * 1024;
const CACHE_HIT = CACHE_STATES.indexOf('hit');

export interface BadRecord {
  raw: string;
  reason: string;
}

/** What a stored batch came to: the rows (of the columns) that were new, with their event ids. */
export interface StoreOutcome {
  inserted: number;
  quarantined: number;
  rows: number[];
  ids: number[];
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

/** `n` items cut into runs of the fixed CHUNK_SIZES, as [start, size]. */
function chunkRanges(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  for (const size of CHUNK_SIZES) {
    while (n - i >= size) {
      out.push([i, size]);
      i += size;
    }
  }
  return out;
}

/**
 * One statement per run of rows, all sent before any is awaited: a connection on another thread (or
 * PostgreSQL) works through them while this thread goes on.
 */
async function forRanges(n: number, fn: (start: number, size: number) => Promise<void>): Promise<void> {
  await Promise.all(chunkRanges(n).map(([start, size]) => fn(start, size)));
}

async function forChunks<T>(items: readonly T[], fn: (chunk: readonly T[]) => Promise<void>): Promise<void> {
  await forRanges(items.length, (start, size) => fn(items.slice(start, start + size)));
}

const ROLLUP_UPSERT_TAIL = ` ON CONFLICT (${ROLLUP_KEY.join(',')}) DO UPDATE SET ${ROLLUP_SUMS.map(
  (c) => `${c} = mon_rollup.${c} + excluded.${c}`,
).join(', ')}`;

const PAIR_UPSERT_TAIL = ` ON CONFLICT (${PAIR_KEY.join(',')}) DO UPDATE SET ${ROLLUP_SUMS.map(
  (c) => `${c} = mon_rollup_pair.${c} + excluded.${c}`,
).join(', ')}`;

/** Dictionary ids per string column, indexed by the batch's string code (0 = none, as stored for null). */
type ColumnIds = Int32Array[];

export class EventStore {
  readonly db: Db;
  readonly dict: Dictionary;

  constructor(db: Db, dict = new Dictionary(db)) {
    this.db = db;
    this.dict = dict;
  }

  async store(c: EventColumns, bad: readonly BadRecord[], now: number): Promise<StoreOutcome> {
    // Keys the parser left to this thread (requestKeyLater: 0n with a request id) are derived here;
    // events that came with their keys keep them (a real key of 0n would derive to 0n again).
    for (let i = 0; i < c.n; i++) {
      const id = c.requestIds[i];
      if (id !== null && c.keys[i] === 0n) c.keys[i] = dedupeKeyOf(id, null);
    }
    const ids = await this.intern(c);
    const rows: number[] = [];
    const eventIds: number[] = [];
    let quarantined = 0;
    await this.db.transaction(async (tx) => {
      // Asked now, with the inserts: the rollups need it once they are done (src/monitor/pairs.ts).
      const mark = pairMark(tx);
      mark.catch(() => {}); // awaited by the rollups; an insert's failure is the error to report
      if (tx.dialect === 'sqlite') await this.insertNumbered(tx, c, ids, rows, eventIds);
      else await this.insertReturning(tx, c, ids, rows, eventIds);
      const idOfRow = new Float64Array(c.n); // 0: not stored (a duplicate)
      for (let j = 0; j < rows.length; j++) idOfRow[rows[j]] = eventIds[j];
      const failures = c.failures.filter((f) => idOfRow[f.row] > 0);
      // Failure rows, bodies and rollups go out together; none depends on another's answer.
      const storeFailures = forChunks(failures, async (chunk) => {
        const summary: SqlValue[] = [];
        for (const { row, failure: f } of chunk)
          summary.push(idOfRow[row], f?.errorType ?? null, f?.errorCode ?? null, f?.message ?? null);
        await tx.run(
          insertSql('mon_failure', ['event_id', 'error_type', 'error_code', 'message'], chunk.length),
          summary,
        );
      });
      // Stored masked: a database dump must not hand out the tokens an upstream echoed back.
      const bodies = failures.filter((f) => f.body);
      const storeBodies = forChunks(bodies, async (chunk) => {
        const raw: SqlValue[] = [];
        for (const { row, body } of chunk)
          raw.push(idOfRow[row], maskSecrets((body as string).slice(0, MAX_QUARANTINE_BYTES)));
        await tx.run(insertSql('mon_failure_raw', ['event_id', 'body'], chunk.length), raw);
      });
      await Promise.all([
        storeFailures,
        storeBodies,
        addRollups(tx, c, ids, rows, mark),
        addLateKeys(tx, c, rows, eventIds, mark),
      ]);
      for (const b of bad) {
        const r = await tx.run(
          'INSERT INTO mon_quarantine (received_at, content_key, reason, raw) VALUES (?, ?, ?, ?) ON CONFLICT (content_key) DO NOTHING',
          [now, dedupeKeyOf(null, b.raw), b.reason.slice(0, 500), maskSecrets(b.raw.slice(0, MAX_QUARANTINE_BYTES))],
        );
        quarantined += r.changes;
      }
    });
    return { inserted: rows.length, quarantined, rows, ids: eventIds };
  }

  /** Interns the batch's strings (only those not cached yet) and maps every code to its id. */
  private async intern(c: EventColumns): Promise<ColumnIds> {
    const width = c.strings.length;
    const used = ID_COLUMNS.map(() => new Uint8Array(width));
    for (let i = 0; i < c.n; i++) {
      const s = i * STR_WIDTH;
      for (let k = 0; k < ID_COLUMNS.length; k++) {
        const code = c.str[s + ID_COLUMNS[k][0]];
        if (code >= 0) used[k][code] = 1;
      }
    }
    const d = this.dict;
    const values: Array<[DictKind, string]> = [];
    const keys: Array<{ hash: string; label: string }> = [];
    for (let k = 0; k < ID_COLUMNS.length; k++) {
      const kind = ID_COLUMNS[k][1];
      for (let code = 0; code < width; code++) {
        if (used[k][code] === 0) continue;
        const v = c.strings[code];
        if (kind === 'apiKey') {
          if (!d.hasApiKey(v)) keys.push({ hash: v, label: c.labels[code] ?? '****' });
        } else if (!d.has(kind, v)) values.push([kind, v]);
      }
    }
    if (values.length > 0 || keys.length > 0) await d.ensure(values, keys);
    const ids: ColumnIds = [];
    for (let k = 0; k < ID_COLUMNS.length; k++) {
      const [column, kind] = ID_COLUMNS[k];
      const map = new Int32Array(width);
      for (let code = 0; code < width; code++) {
        if (used[k][code] === 0) continue;
        const v = c.strings[code];
        map[code] = (kind === 'apiKey' ? d.apiKeyId(v) : d.id(kind, v)) ?? 0;
      }
      ids[column] = map;
    }
    return ids;
  }

  /**
   * SQLite: the largest id before and the inserts go out together and return no rows. Under this
   * transaction's write lock nobody else inserts, so with no duplicate the new rows took the ids
   * right after it, in order (the rowid SQLite picks is one past the largest).
   */
  private async insertNumbered(tx: Db, c: EventColumns, ids: ColumnIds, rows: number[], out: number[]): Promise<void> {
    const top = tx.get<{ id: number | null }>('SELECT MAX(id) AS id FROM mon_event');
    top.catch(() => {}); // awaited below; if an insert fails first, that is the error to report
    let stored = 0;
    await forRanges(c.n, async (start, size) => {
      const r = await tx.run(
        insertSql('mon_event', EVENT_COLUMNS, size, ' ON CONFLICT (ts, dedupe_key) DO NOTHING'),
        eventParams(c, ids, start, size),
      );
      stored += r.changes;
    });
    const before = Number((await top)?.id ?? 0);
    if (stored === c.n) {
      for (let i = 0; i < c.n; i++) {
        rows.push(i);
        out.push(before + 1 + i);
      }
      return;
    }
    if (stored === 0) return;
    // Some were duplicates: which ones were stored, by key.
    const found = await tx.query<KeyedRow>(
      'SELECT id, ts, CAST(dedupe_key AS TEXT) AS k FROM mon_event WHERE id > ? ORDER BY id',
      [before],
    );
    matchByKey(c, 0, c.n, found, rows, out);
  }

  /** PostgreSQL: ids come from the sequence, read back with RETURNING. */
  private async insertReturning(tx: Db, c: EventColumns, ids: ColumnIds, rows: number[], out: number[]): Promise<void> {
    const pairs: Array<[number, number]> = [];
    await forRanges(c.n, async (start, size) => {
      const got = await tx.query<{ id: number }>(
        insertSql('mon_event', EVENT_COLUMNS, size, ' ON CONFLICT (ts, dedupe_key) DO NOTHING RETURNING id'),
        eventParams(c, ids, start, size),
      );
      if (got.length === 0) return;
      if (got.length === size) {
        // Nothing was a duplicate: ids come back in insert order on both backends' multi-row VALUES
        // (the ids grow with it; checked, and matched by key when not).
        let ordered = true;
        for (let j = 1; j < got.length && ordered; j++) ordered = Number(got[j].id) > Number(got[j - 1].id);
        if (ordered) {
          for (let j = 0; j < size; j++) pairs.push([Number(got[j].id), start + j]);
          return;
        }
      }
      // Some were duplicates: which ones, by key.
      const keyed = await tx.query<KeyedRow>(
        `SELECT id, ts, CAST(dedupe_key AS TEXT) AS k FROM mon_event WHERE id IN (${got.map(() => '?').join(',')})`,
        got.map((r) => r.id),
      );
      const r: number[] = [];
      const o: number[] = [];
      matchByKey(c, start, size, keyed, r, o);
      for (let j = 0; j < r.length; j++) pairs.push([o[j], r[j]]);
    });
    pairs.sort((a, b) => a[0] - b[0]);
    for (const [id, row] of pairs) {
      out.push(id);
      rows.push(row);
    }
  }
}

type KeyedRow = { id: number; ts: number; k: string };

/** Which rows the stored rows are, by (ts, dedupe key); of duplicates the first one. */
function matchByKey(
  c: EventColumns,
  start: number,
  size: number,
  found: readonly KeyedRow[],
  rows: number[],
  out: number[],
): void {
  const byKey = new Map<string, number>();
  for (let i = start; i < start + size; i++) {
    const k = `${c.num[i * NUM_WIDTH]}|${c.keys[i]}`;
    if (!byKey.has(k)) byKey.set(k, i);
  }
  for (const r of found) {
    const row = byKey.get(`${Number(r.ts)}|${r.k}`);
    if (row !== undefined) {
      rows.push(row);
      out.push(Number(r.id));
    }
  }
}

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** The mon_event parameters (EVENT_COLUMNS, row after row) of rows start..start+size. */
function eventParams(c: EventColumns, ids: ColumnIds, start: number, size: number): SqlValue[] {
  const p: SqlValue[] = [];
  const id = (s: number, col: number): number | null => {
    const code = c.str[s + col];
    return code < 0 ? null : ids[col][code];
  };
  for (let i = start; i < start + size; i++) {
    const o = i * NUM_WIDTH;
    const s = i * STR_WIDTH;
    const num = c.num;
    p.push(
      num[o],
      c.keys[i],
      num[o + 3],
      num[o + 4],
      nullIfNaN(num[o + 1]),
      nullIfNaN(num[o + 2]),
      id(s, STR.provider),
      id(s, STR.executor),
      id(s, STR.model),
      id(s, STR.alias),
      id(s, STR.endpoint),
      id(s, STR.account),
      id(s, STR.authType),
      id(s, STR.apiKey),
      id(s, STR.project),
      id(s, STR.failureType),
      id(s, STR.effort),
      id(s, STR.tier),
      num[o + 5],
      num[o + 6],
      num[o + 7],
      num[o + 8],
      num[o + 9],
      num[o + 10],
      num[o + 11],
      c.requestIds[i],
    );
  }
  return p;
}

/**
 * Events for an hour the compactor has already closed (before the mark) get their key lookup row here,
 * as the compactor gave the rest of that hour (migration 250). Rare: late or imported history.
 */
async function addLateKeys(
  tx: Db,
  c: EventColumns,
  rows: readonly number[],
  ids: readonly number[],
  markAsked: Promise<number>,
): Promise<void> {
  const mark = await markAsked;
  const late: number[] = [];
  for (let j = 0; j < rows.length; j++) if (c.num[rows[j] * NUM_WIDTH] < mark) late.push(j);
  await forChunks(late, async (chunk) => {
    const params: SqlValue[] = [];
    for (const j of chunk) params.push(keyHigh(c.keys[rows[j]]), ids[j]);
    await tx.run(
      insertSql('mon_key_lookup', ['key_high', 'event_id'], chunk.length, ' ON CONFLICT DO NOTHING'),
      params,
    );
  });
}

// Rollup deltas are summed here for the rows this transaction inserted and upserted in the same
// transaction, so rollups always agree with the raw events. Minute rollups hold totals only (a
// per-account minute rollup would be bigger than the raw rows); hour rollups hold every dimension.
async function addRollups(
  tx: Db,
  c: EventColumns,
  ids: ColumnIds,
  rows: readonly number[],
  markAsked: Promise<number>,
): Promise<void> {
  if (rows.length === 0) return;
  const width = ROLLUP_SUMS.length;
  type Slot = { key: number[]; sums: Float64Array };
  const all: Slot[] = [];
  // Hot loop: numeric keys only. (provider, model, tier) becomes a small per-batch index, and each
  // rollup bucket of each grain has its own map keyed by dim + 8 × (value + 2^31 × that index).
  const tails = new Map<number, number>();
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
  const idOf = (s: number, col: number): number => {
    const code = c.str[s + col];
    return code < 0 ? 0 : ids[col][code];
  };
  for (const i of rows) {
    const o = i * NUM_WIDTH;
    const s = i * STR_WIDTH;
    const ts = c.num[o];
    const prov = idOf(s, STR.provider);
    const model = idOf(s, STR.model);
    const tier = idOf(s, STR.tier);
    // Dictionary ids stay far below 2^20: three of them make one exact number.
    const tailKey = prov + 2 ** 20 * (model + 2 ** 20 * tier);
    let tail = tails.get(tailKey);
    if (tail === undefined) {
      tail = tails.size;
      tails.set(tailKey, tail);
    }
    const lat = c.num[o + 1];
    const hasLat = !Number.isNaN(lat);
    const hist = hasLat ? HIST0 + latencyBucket(lat) : -1;
    const status = c.num[o + 3];
    dimValues[DIMS.account] = idOf(s, STR.account);
    dimValues[DIMS.apiKey] = idOf(s, STR.apiKey);
    dimValues[DIMS.status] = status;
    dimValues[DIMS.project] = idOf(s, STR.project);
    // Grain 0 (minute) holds the total only; hour and day hold every dimension. Days are summed
    // from the hour rows below: an event touches 6 rows here instead of 11.
    for (let g = 0; g < 2; g++) {
      const grain = grains[g];
      const bucket = ts - (ts % grain);
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
        addEvent(slot.sums, c, o, hist);
      }
    }
    // Pair rollups (src/monitor/pairs.ts) are built by the compactor for closed buckets; only an
    // event for a bucket already compacted (before the mark) is folded here. Keyed per (grain,
    // bucket) by pair index + both values + tail: numbers for small second values, else strings.
    if (ts >= mark) continue;
    const failed = c.num[o + 4] === 1;
    pairValues[PAIR_DIMS.account] = dimValues[DIMS.account];
    pairValues[PAIR_DIMS.apiKey] = dimValues[DIMS.apiKey];
    pairValues[PAIR_DIMS.cache] = c.num[o + 5];
    pairValues[PAIR_DIMS.latency] = hasLat ? latencyClass(lat) : -1;
    pairValues[PAIR_DIMS.status] = status;
    pairValues[PAIR_DIMS.failureType] = idOf(s, STR.failureType);
    for (let pi = 0; pi < PAIRS.length; pi++) {
      const pair = PAIRS[pi];
      if (!failed && FAILED_ONLY.has(pair.dim2)) continue;
      const v1 = pairValues[pair.dim];
      const v2 = pairValues[pair.dim2];
      const k = SMALL_DIM2.has(pair.dim2) ? pi + 32 * (v2 + 1 + 32 * (v1 + TWO31 * tail)) : `${pi}|${v1}|${v2}|${tail}`;
      for (const grain of pair.grains) {
        const bucket = ts - (ts % grain);
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
        addEvent(slot.sums, c, o, hist);
      }
    }
  }
  for (const [hour, inHour] of buckets[1]) {
    const day = hour - (hour % GRAIN_DAY);
    let inDay = buckets[2].get(day);
    if (inDay === undefined) {
      inDay = new Map();
      buckets[2].set(day, inDay);
    }
    for (const [k, h] of inHour) {
      let slot = inDay.get(k);
      if (slot === undefined) {
        slot = { key: [GRAIN_DAY, day, ...h.key.slice(2)], sums: new Float64Array(width) };
        inDay.set(k, slot);
        all.push(slot);
      }
      const sums = slot.sums;
      for (let j = 0; j < width; j++) sums[j] += h.sums[j];
    }
  }
  await Promise.all([
    upsertSlots(tx, 'mon_rollup_pair', PAIR_KEY, PAIR_UPSERT_TAIL, pairs),
    upsertSlots(tx, 'mon_rollup', ROLLUP_KEY, ROLLUP_UPSERT_TAIL, all),
  ]);
}

/** Rollup rows (key columns, then the sums) added to what is stored, a chunk per statement. */
function upsertSlots(
  tx: Db,
  table: string,
  key: readonly string[],
  tail: string,
  slots: ReadonlyArray<{ key: number[]; sums: Float64Array }>,
): Promise<void> {
  const columns = [...key, ...ROLLUP_SUMS];
  return forChunks(slots, async (chunk) => {
    const params: SqlValue[] = [];
    for (const s of chunk) {
      for (const v of s.key) params.push(v);
      for (const v of s.sums) params.push(v);
    }
    await tx.run(insertSql(table, columns, chunk.length, tail), params);
  });
}

const HIST0 = ROLLUP_SUMS.indexOf('h0');

/** Adds row `o` (its NUM offset) to a rollup row's sums (ROLLUP_SUMS order); `hist` is its histogram column or -1. */
function addEvent(s: Float64Array, c: EventColumns, o: number, hist: number): void {
  const num = c.num;
  s[0]++;
  if (num[o + 4] === 1) s[1]++;
  const lat = num[o + 1];
  if (!Number.isNaN(lat)) {
    s[2]++;
    s[3] += lat;
    s[hist]++;
  }
  const ttft = num[o + 2];
  if (!Number.isNaN(ttft)) {
    s[4]++;
    s[5] += ttft;
  }
  s[6] += num[o + 6];
  s[7] += num[o + 7];
  s[8] += num[o + 8];
  s[9] += num[o + 9];
  s[10] += num[o + 10];
  s[11] += num[o + 11];
  if (num[o + 5] === CACHE_HIT) s[12]++;
}
