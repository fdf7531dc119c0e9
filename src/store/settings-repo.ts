// Key → JSON value settings (schedules, thresholds, UI preferences). Values round-trip through JSON.
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';

export class SettingsRepo {
  readonly db: Db;
  readonly clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined) throw new Error(`setting ${key}: value must not be undefined (use delete)`);
    const json = JSON.stringify(value);
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
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }
}
