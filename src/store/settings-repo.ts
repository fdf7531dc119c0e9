// Key → JSON value settings (schedules, thresholds, UI preferences). Values round-trip through JSON.
// Settings that hold credentials are sealed (src/store/secret-box.ts) on the way in and opened on
// the way out, so the database never holds them in clear; callers see plain values.
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';
import { isSealed, SecretKeyError, type SecretKeys, sealedKeyId, secretKeysOf } from './secret-box.ts';

/**
 * Settings that hold a credential: CPA management keys, webhook URLs (Slack and Discord put the
 * secret in the URL), the monitor's API-key hashing secret.
 */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  'cpa.servers',
  'notify.settings',
  'monitor.key_hash_secret',
]);

export class SettingsRepo {
  readonly db: Db;
  readonly clock: Clock;
  readonly #keys: SecretKeys;

  constructor(db: Db, clock: Clock = Date.now, keys: SecretKeys = secretKeysOf(db)) {
    this.db = db;
    this.clock = clock;
    this.#keys = keys;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return row ? (this.#reveal(key, JSON.parse(row.value)) as T) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined) throw new Error(`setting ${key}: value must not be undefined (use delete)`);
    const json = JSON.stringify(
      SECRET_SETTINGS.has(key) ? this.#keys.forSeal().seal(JSON.stringify(value), context(key)) : value,
    );
    await this.db.run(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [key, json, this.clock()],
    );
  }

  /** Writes only when the key is new; true when this call wrote it (an atomic claim across instances). */
  async setIfAbsent(key: string, value: unknown): Promise<boolean> {
    const result = await this.db.run(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
      [key, JSON.stringify(value), this.clock()],
    );
    return result.changes > 0;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM settings WHERE key = ?', [key])).changes > 0;
  }

  /** All settings whose key starts with prefix (default: all). */
  async all(prefix = ''): Promise<Record<string, unknown>> {
    const rows = await this.db.query<{ key: string; value: string }>(
      'SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key',
      [prefix.length, prefix],
    );
    return Object.fromEntries(rows.map((r) => [r.key, this.#reveal(r.key, JSON.parse(r.value))]));
  }

  /** Seals credential settings still stored in clear by an older version. Returns how many. */
  async sealLegacySecrets(): Promise<number> {
    let sealed = 0;
    for (const key of SECRET_SETTINGS) {
      const row = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
      if (!row || isSealed(JSON.parse(row.value))) continue;
      await this.set(key, JSON.parse(row.value));
      sealed += 1;
    }
    return sealed;
  }

  #reveal(key: string, stored: unknown): unknown {
    if (!SECRET_SETTINGS.has(key) || !isSealed(stored)) return stored; // not secret, or stored in clear before sealing existed
    const box = this.#keys.forOpen();
    if (!box) {
      throw new SecretKeyError(
        `${context(key)}: the stored secret is encrypted (key id ${sealedKeyId(stored)}) but no key was found; ${this.#keys.hint}`,
      );
    }
    return JSON.parse(box.open(stored, context(key)));
  }
}

function context(key: string): string {
  return `setting ${key}`;
}
