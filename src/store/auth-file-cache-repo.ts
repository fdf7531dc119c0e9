// Stores the parsed-account cache sealed (src/store/secret-box.ts): its entries hold the tokens of every
// auth file. Anything that cannot be opened (no key, another key, damaged, another version) reads as
// empty: the cache is never the truth, the files are.
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';
import { type SecretKeys, secretKeysOf } from './secret-box.ts';

const CONTEXT = 'auth-file-cache';

export class AuthFileCacheRepo {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #keys: SecretKeys;

  constructor(db: Db, clock: Clock = Date.now, keys: SecretKeys = secretKeysOf(db)) {
    this.#db = db;
    this.#clock = clock;
    this.#keys = keys;
  }

  /** The stored value for scope, or null when there is none or it cannot be opened. */
  async get(scope: string): Promise<unknown> {
    const row = await this.#db.get<{ sealed: string }>('SELECT sealed FROM auth_file_cache WHERE scope = ?', [scope]);
    if (!row) return null;
    try {
      const box = this.#keys.forOpen();
      return box ? JSON.parse(box.open(row.sealed, `${CONTEXT} ${scope}`)) : null;
    } catch {
      return null;
    }
  }

  /** Seals and stores value; false when no key can be had (the cache is then simply not kept). */
  async set(scope: string, value: unknown): Promise<boolean> {
    let sealed: string;
    try {
      sealed = this.#keys.forSeal().seal(JSON.stringify(value), `${CONTEXT} ${scope}`);
    } catch {
      return false;
    }
    await this.#db.run(
      `INSERT INTO auth_file_cache (scope, sealed, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      [scope, sealed, this.#clock()],
    );
    return true;
  }

  async clear(): Promise<void> {
    await this.#db.run('DELETE FROM auth_file_cache');
  }
}
