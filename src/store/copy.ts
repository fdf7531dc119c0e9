// Copies every table of one store into another (SQLite ⇄ PostgreSQL) in keyset-paginated batches,
// then verifies each table by row count and an order-independent checksum computed on both sides.
import { nodeCrypto } from '../runtime/crypto.ts';
import type { Db, SqlValue } from './db.ts';
import { appliedVersions } from './migrate.ts';

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface TableCopyReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

export interface CopyReport {
  tables: TableCopyReport[];
  rows: number;
  ok: boolean;
}

export interface CopyOptions {
  /** Rows read and written per transaction (default 5000). */
  batchSize?: number;
  /** Replace the contents of a non-empty target instead of refusing. */
  force?: boolean;
  onProgress?: (p: CopyProgress) => void;
}

interface TableInfo {
  name: string;
  columns: string[];
  primaryKey: string[];
  parents: string[];
}

// accounts_generation is derived: the target's triggers count the accounts copied into it, and its record
// of the last comparison means nothing against the target's counter (migration 5).
const SKIP = new Set(['schema_migrations', 'accounts_generation']);
const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

/** User tables of the store (without schema_migrations and derived tables), by name. */
export async function listTables(db: Db): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
      : await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables
           WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
        );
  return rows.map((r) => r.name).filter((n) => !SKIP.has(n));
}

async function describeTable(db: Db, name: string): Promise<TableInfo> {
  if (db.dialect === 'sqlite') {
    const cols = await db.query<{ name: string; pk: number }>(
      'SELECT name, pk FROM pragma_table_info(?) ORDER BY cid',
      [name],
    );
    const fks = await db.query<{ parent: string }>('SELECT "table" AS parent FROM pragma_foreign_key_list(?)', [name]);
    return {
      name,
      columns: cols.map((c) => c.name),
      primaryKey: cols
        .filter((c) => Number(c.pk) > 0)
        .sort((a, b) => Number(a.pk) - Number(b.pk))
        .map((c) => c.name),
      parents: fks.map((f) => f.parent),
    };
  }
  const cols = await db.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    [name],
  );
  const pk = await db.query<{ name: string }>(
    `SELECT k.column_name AS name FROM information_schema.table_constraints c
     JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
     WHERE c.table_schema = current_schema() AND c.table_name = ? AND c.constraint_type = 'PRIMARY KEY'
     ORDER BY k.ordinal_position`,
    [name],
  );
  const fks = await db.query<{ parent: string }>(
    `SELECT DISTINCT u.table_name AS parent FROM information_schema.table_constraints c
     JOIN information_schema.constraint_column_usage u ON u.constraint_name = c.constraint_name AND u.table_schema = c.table_schema
     WHERE c.table_schema = current_schema() AND c.table_name = ? AND c.constraint_type = 'FOREIGN KEY'`,
    [name],
  );
  return {
    name,
    columns: cols.map((c) => c.name),
    primaryKey: pk.map((c) => c.name),
    parents: fks.map((f) => f.parent),
  };
}

/** Parents before children, so foreign keys hold while rows arrive. */
function orderByDependencies(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableInfo[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: TableInfo) => {
    if (state.get(t.name) === 'done' || state.get(t.name) === 'visiting') return; // cycles: keep going
    state.set(t.name, 'visiting');
    for (const p of t.parents) {
      const parent = byName.get(p);
      if (parent && p !== t.name) visit(parent);
    }
    state.set(t.name, 'done');
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** Canonical text of a value, the same on both backends for the same stored value. */
function canon(v: unknown): string {
  if (v === null || v === undefined) return '\u0000N';
  if (typeof v === 'number') return Number.isInteger(v) ? `i${v}` : `f${v}`;
  if (typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'boolean') return v ? 'i1' : 'i0';
  if (typeof v === 'string') return `s${v}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (v instanceof Date) return `s${v.toISOString()}`;
  return `j${JSON.stringify(v)}`;
}

const MASK64 = (1n << 64n) - 1n;

/** Sum of per-row hashes mod 2^64: independent of row order, which differs between backends' collations. */
class Checksum {
  sum = 0n;
  rows = 0;
  add(row: Record<string, unknown>, columns: string[]): void {
    let text = '';
    for (const c of columns) text += `${canon(row[c])}\u001f`;
    this.sum = (this.sum + nodeCrypto().hash('sha256', text, 'buffer').readBigUInt64BE(0)) & MASK64;
    this.rows++;
  }
  hex(): string {
    return this.sum.toString(16).padStart(16, '0');
  }
}

const toParam = (v: unknown): SqlValue => {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v as SqlValue;
};

/** Reads a table in primary-key order (keyset pagination), or by all columns + OFFSET without a key. */
async function* readBatches(
  db: Db,
  table: string,
  columns: string[],
  key: string[],
  batchSize: number,
): AsyncGenerator<Record<string, unknown>[]> {
  const cols = columns.map(q).join(', ');
  if (key.length === 0) {
    const order = columns.map((_, i) => String(i + 1)).join(', ');
    for (let offset = 0; ; offset += batchSize) {
      const rows = await db.query(`SELECT ${cols} FROM ${q(table)} ORDER BY ${order} LIMIT ? OFFSET ?`, [
        batchSize,
        offset,
      ]);
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) return;
    }
  }
  const keyList = key.map(q).join(', ');
  const keyExpr = key.length === 1 ? q(key[0]) : `(${keyList})`;
  const keyParams = key.length === 1 ? '?' : `(${key.map(() => '?').join(', ')})`;
  let last: SqlValue[] | null = null;
  for (;;) {
    const rows: Record<string, unknown>[] =
      last === null
        ? await db.query(`SELECT ${cols} FROM ${q(table)} ORDER BY ${keyList} LIMIT ?`, [batchSize])
        : await db.query(
            `SELECT ${cols} FROM ${q(table)} WHERE ${keyExpr} > ${keyParams} ORDER BY ${keyList} LIMIT ?`,
            [...last, batchSize],
          );
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    const tail = rows[rows.length - 1];
    last = key.map((k) => toParam(tail[k]));
  }
}

async function insertRows(tx: Db, table: string, columns: string[], rows: Record<string, unknown>[]): Promise<void> {
  const cols = columns.map(q).join(', ');
  if (tx.dialect === 'postgres') {
    // A crash mid-copy is redone with --force anyway: no need to wait for a WAL flush per batch.
    await tx.exec('SET LOCAL synchronous_commit = off');
    // One JSON parameter per batch: far cheaper for PostgreSQL to parse than thousands of bound values,
    // and the table's own row type converts every field.
    const json = JSON.stringify(rows.map((r) => jsonRow(r, columns)));
    await tx.run(
      `INSERT INTO ${q(table)} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${q(table)}, ?)`,
      [json],
    );
    return;
  }
  // Stay well under SQLite's bound-parameter limit (32766).
  const perStatement = Math.max(1, Math.min(500, Math.floor(30_000 / columns.length)));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const params: SqlValue[] = [];
    for (const row of chunk) for (const c of columns) params.push(toParam(row[c]));
    await tx.run(`INSERT INTO ${q(table)} (${cols}) VALUES ${chunk.map(() => tuple).join(', ')}`, params);
  }
}

/** A row as JSON for json_populate_recordset: bigints as exact strings, bytes as bytea hex. */
function jsonRow(row: Record<string, unknown>, columns: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c];
    if (typeof v === 'bigint') out[c] = v.toString();
    else if (v instanceof Uint8Array)
      out[c] = `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    else out[c] = toParam(v);
  }
  return out;
}

/** After explicit ids were inserted, moves PostgreSQL sequences past them so new rows do not collide. */
async function resetSequences(db: Db, table: string): Promise<void> {
  if (db.dialect !== 'postgres') return;
  const serials = await db.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = ? AND column_default LIKE 'nextval(%'`,
    [table],
  );
  for (const { name } of serials) {
    await db.query(
      `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${q(name)}) FROM ${q(table)}), 1),
         (SELECT MAX(${q(name)}) FROM ${q(table)}) IS NOT NULL)`,
      [q(table), name],
    );
  }
}

export async function countRows(db: Db, table: string): Promise<number> {
  const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(table)}`);
  return Number(row?.n ?? 0);
}

/** Checksum of a table as stored in db (used for the target, and for verifying any copy). */
export async function tableChecksum(
  db: Db,
  table: string,
  columns: string[],
  key: string[],
  batchSize = 5000,
): Promise<{ rows: number; checksum: string }> {
  const sum = new Checksum();
  for await (const rows of readBatches(db, table, columns, key, batchSize)) for (const r of rows) sum.add(r, columns);
  return { rows: sum.rows, checksum: sum.hex() };
}

/**
 * Copies every table from `from` into `to`. Both must already be migrated to the same schema version.
 * Refuses a target that holds rows unless `force` (then its rows are deleted first).
 */
export async function copyDatabase(from: Db, to: Db, options: CopyOptions = {}): Promise<CopyReport> {
  const batchSize = options.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const [vFrom, vTo] = [await appliedVersions(from), await appliedVersions(to)];
  if (vFrom.join(',') !== vTo.join(',')) {
    throw new Error(
      `source and target schemas differ (source migrations ${vFrom.join(',') || 'none'}, target ${vTo.join(',') || 'none'}); run \`codex-fleet db migrate\` on both with the same codex-fleet version`,
    );
  }
  const sourceTables = await listTables(from);
  const targetTables = new Set(await listTables(to));
  const missing = sourceTables.filter((t) => !targetTables.has(t));
  if (missing.length > 0) throw new Error(`target has no table(s) ${missing.join(', ')}: migrate it first`);

  const infos = orderByDependencies(await Promise.all(sourceTables.map((t) => describeTable(to, t))));
  const sourceInfo = new Map(
    (await Promise.all(sourceTables.map((t) => describeTable(from, t)))).map((t) => [t.name, t]),
  );

  const nonEmpty: string[] = [];
  for (const t of infos) if (await to.get(`SELECT 1 AS one FROM ${q(t.name)} LIMIT 1`)) nonEmpty.push(t.name);
  if (nonEmpty.length > 0 && !options.force) {
    throw new Error(
      `target database is not empty (rows in ${nonEmpty.join(', ')}); copy into an empty database, or pass --force to replace its contents`,
    );
  }
  if (nonEmpty.length > 0) {
    await to.transaction(async (tx) => {
      for (const t of [...infos].reverse()) await tx.run(`DELETE FROM ${q(t.name)}`);
    });
  }

  const reports: TableCopyReport[] = [];
  for (const t of infos) {
    const src = sourceInfo.get(t.name)!;
    const columns = t.columns.filter((c) => src.columns.includes(c));
    const key = src.primaryKey.every((k) => columns.includes(k)) ? src.primaryKey : [];
    const total = await countRows(from, t.name);
    const sum = new Checksum();
    options.onProgress?.({ table: t.name, copied: 0, total });
    // The next batch is read and hashed while the previous one is being written.
    let writing: Promise<void> | null = null;
    for await (const rows of readBatches(from, t.name, columns, key, batchSize)) {
      for (const r of rows) sum.add(r, columns);
      if (writing) await writing;
      const copied = sum.rows;
      writing = to
        .transaction((tx) => insertRows(tx, t.name, columns, rows))
        .then(() => options.onProgress?.({ table: t.name, copied, total: Math.max(total, copied) }));
      writing.catch(() => {}); // awaited above or below; this only stops an early unhandled-rejection report
    }
    if (writing) await writing;
    await resetSequences(to, t.name);
    const target = await tableChecksum(to, t.name, columns, key, batchSize);
    reports.push({
      table: t.name,
      sourceRows: sum.rows,
      targetRows: target.rows,
      sourceChecksum: sum.hex(),
      targetChecksum: target.checksum,
      ok: sum.rows === target.rows && sum.hex() === target.checksum,
    });
  }
  return {
    tables: reports,
    rows: reports.reduce((n, r) => n + r.sourceRows, 0),
    ok: reports.every((r) => r.ok),
  };
}
