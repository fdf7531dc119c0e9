// The account list built once per change and served until the next one (issue 20's benchmark row:
// GET /api/accounts at 1,000 accounts). The core bumps the generation on each of its own events (a sweep,
// a probe, an action, a settings change, a collector batch that changed the request outcomes); a key the
// core computes per read catches what happens elsewhere (another process writing the same SQLite store,
// a file added to the auth dir); the TTL bounds the rest (another instance on a shared PostgreSQL store,
// a file edited in place, time passing a reset).
import { createHash } from 'node:crypto';
import type { AccountView } from './views.ts';

/** The longest a list is served without any change the core can see. */
export const ACCOUNT_LIST_TTL_MS = 5_000;

/** One built list; `json` (the `{"accounts":[…]}` body) and its ETag are made on first ask, once. */
export class AccountList {
  readonly views: AccountView[];
  #body: { json: string; etag: string } | null = null;
  constructor(views: AccountView[]) {
    this.views = views;
  }
  get body(): { json: string; etag: string } {
    if (!this.#body) {
      const json = JSON.stringify({ accounts: this.views });
      // A content hash: the same list from another instance behind one address answers 304 too.
      const etag = `"${createHash('sha1').update(json).digest('base64url')}"`;
      this.#body = { json, etag };
    }
    return this.#body;
  }
}

export class AccountListCache {
  readonly #now: () => number;
  readonly #ttlMs: number;
  #generation = 0;
  #entry: { key: string; builtAt: number; list: Promise<AccountList> } | null = null;

  constructor(now: () => number, ttlMs = ACCOUNT_LIST_TTL_MS) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** Something the list shows changed: the next read builds it again. */
  invalidate(): void {
    this.#generation++;
  }

  /**
   * The list for this key, built by `build` when the key, the generation or the TTL says the held one is
   * old. Concurrent reads share one build; a failed build is not kept.
   */
  get(key: string, build: () => Promise<AccountView[]>): Promise<AccountList> {
    const full = `${this.#generation}\u0000${key}`;
    const now = this.#now();
    const held = this.#entry;
    if (held && held.key === full && now - held.builtAt < this.#ttlMs && now >= held.builtAt) return held.list;
    const list = build().then((views) => new AccountList(views));
    const entry = { key: full, builtAt: now, list };
    this.#entry = entry;
    list.catch(() => {
      if (this.#entry === entry) this.#entry = null;
    });
    return list;
  }
}
