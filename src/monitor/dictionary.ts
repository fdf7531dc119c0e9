// Interned strings: each distinct provider/model/account/… is stored once and events hold its id.
// Ids are cached in memory; the cache is only filled from committed rows, so a rollback cannot leave
// an id in the cache that the database does not have.
import type { Db } from '../store/db.ts';

export const DICT_KINDS = {
  provider: 1,
  executor: 2,
  model: 3,
  alias: 4,
  endpoint: 5,
  account: 6,
  authType: 7,
  project: 8,
  failureType: 9,
  effort: 10,
  tier: 11,
} as const;
export type DictKind = keyof typeof DICT_KINDS;

export interface ApiKeyRef {
  hash: string;
  label: string;
}

export class Dictionary {
  readonly db: Db;
  // One map per kind (index = kind number): lookups on the ingest hot path build no strings.
  private readonly byValue: Array<Map<string, number>> = Array.from({ length: 16 }, () => new Map());
  private readonly byId = new Map<number, string>();
  private readonly keyIds = new Map<string, number>();
  private readonly keyLabels = new Map<number, string>();

  constructor(db: Db) {
    this.db = db;
  }

  private set(kind: number, value: string, id: number): void {
    this.byValue[kind].set(value, id);
    this.byId.set(id, value);
  }

  /** Cached id of an interned value (call ensure first); null for null. */
  id(kind: DictKind, value: string | null): number | null {
    if (value === null) return null;
    const id = this.byValue[DICT_KINDS[kind]].get(value);
    if (id === undefined) throw new Error(`dictionary: ${kind} "${value}" was not interned`);
    return id;
  }

  has(kind: DictKind, value: string): boolean {
    return this.byValue[DICT_KINDS[kind]].has(value);
  }

  hasApiKey(hash: string): boolean {
    return this.keyIds.has(hash);
  }

  apiKeyId(hash: string | null): number | null {
    if (hash === null) return null;
    const id = this.keyIds.get(hash);
    if (id === undefined) throw new Error('dictionary: api key was not interned');
    return id;
  }

  /** Interns the given values (insert-if-absent, then read the ids back). Pass only uncached ones. */
  async ensure(values: Iterable<[DictKind, string]>, keys: Iterable<ApiKeyRef> = []): Promise<void> {
    const missing = new Map<string, [DictKind, string]>();
    for (const [kind, value] of values) {
      if (!this.has(kind, value)) missing.set(`${kind}\u0000${value}`, [kind, value]);
    }
    const missingKeys = new Map<string, ApiKeyRef>();
    for (const key of keys) if (!this.keyIds.has(key.hash)) missingKeys.set(key.hash, key);
    if (missing.size === 0 && missingKeys.size === 0) return;
    const found: Array<[number, string, number]> = [];
    const foundKeys: Array<[string, number, string]> = [];
    await this.db.transaction(async (tx) => {
      for (const [kind, value] of missing.values()) {
        const k = DICT_KINDS[kind];
        await tx.run('INSERT INTO mon_dict (kind, value) VALUES (?, ?) ON CONFLICT (kind, value) DO NOTHING', [
          k,
          value,
        ]);
        const row = await tx.get<{ id: number }>('SELECT id FROM mon_dict WHERE kind = ? AND value = ?', [k, value]);
        if (row) found.push([k, value, Number(row.id)]);
      }
      for (const key of missingKeys.values()) {
        await tx.run('INSERT INTO mon_api_key (hash, label) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING', [
          key.hash,
          key.label,
        ]);
        const row = await tx.get<{ id: number }>('SELECT id FROM mon_api_key WHERE hash = ?', [key.hash]);
        if (row) foundKeys.push([key.hash, Number(row.id), key.label]);
      }
    });
    for (const [kind, value, id] of found) this.set(kind, value, id);
    for (const [hash, id, label] of foundKeys) {
      this.keyIds.set(hash, id);
      this.keyLabels.set(id, label);
    }
  }

  /** Reloads everything (for readers: another process may have interned new values). */
  async refresh(): Promise<void> {
    const rows = await this.db.query<{ id: number; kind: number; value: string }>(
      'SELECT id, kind, value FROM mon_dict',
    );
    for (const r of rows) {
      const kind = Number(r.kind);
      if (this.byValue[kind]) this.set(kind, r.value, Number(r.id));
    }
    const keys = await this.db.query<{ id: number; hash: string; label: string }>(
      'SELECT id, hash, label FROM mon_api_key',
    );
    for (const r of keys) {
      this.keyIds.set(r.hash, Number(r.id));
      this.keyLabels.set(Number(r.id), r.label);
    }
  }

  /** Id of a value for a filter, without inserting; null when never seen. */
  async lookup(kind: DictKind, value: string): Promise<number | null> {
    const map = this.byValue[DICT_KINDS[kind]];
    let id = map.get(value);
    if (id === undefined) {
      await this.refresh();
      id = map.get(value);
    }
    return id ?? null;
  }

  /** Id of an API key given its hash or its masked label; null when never seen. */
  async lookupApiKey(hashOrLabel: string): Promise<number | null> {
    const find = () => {
      const byHash = this.keyIds.get(hashOrLabel);
      if (byHash !== undefined) return byHash;
      for (const [id, label] of this.keyLabels) if (label === hashOrLabel) return id;
      return undefined;
    };
    let id = find();
    if (id === undefined) {
      await this.refresh();
      id = find();
    }
    return id ?? null;
  }

  /** Value of an id (reads the database when the cache has not seen it). */
  async name(id: number | null): Promise<string | null> {
    if (id === null || id === 0) return null;
    if (!this.byId.has(id)) await this.refresh();
    return this.byId.get(id) ?? null;
  }

  nameSync(id: number | null | undefined): string | null {
    if (id == null || id === 0) return null;
    return this.byId.get(Number(id)) ?? null;
  }

  apiKeyLabel(id: number | null | undefined): string | null {
    if (id == null) return null;
    return this.keyLabels.get(Number(id)) ?? null;
  }

  apiKeyHash(id: number | null | undefined): string | null {
    if (id == null) return null;
    for (const [hash, kid] of this.keyIds) if (kid === Number(id)) return hash;
    return null;
  }
}
