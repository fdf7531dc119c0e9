// The account list built once per change and served until the next one (issue 20's benchmark row:
// GET /api/accounts at 1,000 accounts). The core bumps the generation on each of its own events (a sweep,
// a probe, an action, a settings change, a collector batch that changed the request outcomes); a key the
// core computes per read catches what happens elsewhere (another process writing the same SQLite store,
// a file added to the auth dir); the TTL bounds the rest (another instance on a shared PostgreSQL store,
// a file edited in place, time passing a reset).
import { nodeCrypto } from '../runtime/crypto.ts';
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
      const etag = `"${nodeCrypto().createHash('sha1').update(json).digest('base64url')}"`;
      this.#body = { json, etag };
    }
    return this.#body;
  }
}

export class AccountListCache {
  readonly #now: () => number;
  readonly #ttlMs: number;
  #generation = 0;
  #seq = 0;
  /** The newest built list. */
  #held: { key: string; builtAt: number; seq: number; list: AccountList } | null = null;
  /** The build in flight, if any. */
  #building: { key: string; list: Promise<AccountList> } | null = null;

  constructor(now: () => number, ttlMs = ACCOUNT_LIST_TTL_MS) {
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** Something the list shows changed: the next read waits for a new build. */
  invalidate(): void {
    this.#generation++;
  }

  /**
   * Builds the list again in the background, serving the held one until the new one is in (for changes
   * that are already eventual, such as a new read of the request outcomes); resolves once it is held.
   */
  async rebuild(key: string, build: () => Promise<AccountView[]>): Promise<void> {
    const full = `${this.#generation}\u0000${key}`;
    await (this.#building?.key === full ? this.#building.list : this.#start(full, build));
  }

  /**
   * The list for this key: the held one while the key and the generation match; a known change waits for
   * a new build; a held list only past its TTL (no change known) is served while the next is built.
   * Concurrent reads share one build; a failed build is not kept.
   */
  get(key: string, build: () => Promise<AccountView[]>): Promise<AccountList> {
    const full = `${this.#generation}\u0000${key}`;
    const held = this.#held;
    const building = this.#building?.key === full ? this.#building.list : null;
    if (held?.key === full) {
      const age = this.#now() - held.builtAt;
      if ((age >= this.#ttlMs || age < 0) && !building) this.#start(full, build).catch(() => undefined);
      return Promise.resolve(held.list);
    }
    return building ?? this.#start(full, build);
  }

  #start(key: string, build: () => Promise<AccountView[]>): Promise<AccountList> {
    const seq = ++this.#seq;
    const builtAt = this.#now();
    const list = build().then((views) => {
      const built = new AccountList(views);
      // A slower, older build never replaces a newer one.
      if (!this.#held || this.#held.seq < seq) this.#held = { key, builtAt, seq, list: built };
      return built;
    });
    const entry = { key, list };
    this.#building = entry;
    const done = () => {
      if (this.#building === entry) this.#building = null;
    };
    list.then(done, done);
    return list;
  }
}
