// Accounts as the store knows them: identity, source and flags. Secrets never live here; they stay in
// the auth files. Token lifecycle facts (expiry, refresh outcomes) live beside them in token_state.
import type { Account, AccountSourceKind, AuthFileFormat } from '../domain/account.ts';
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';

/** An account without its credentials: what the database holds. */
export type StoredAccount = Omit<Account, 'credentials'> & { createdAt: number; updatedAt: number };
export type AccountInput = Omit<Account, 'credentials' | 'userId'> & Partial<Pick<Account, 'credentials' | 'userId'>>;

export interface TokenState {
  accountId: string;
  /** Access token expiry, ms since epoch. */
  accessExpiresAt: number | null;
  /** Last successful refresh, ms since epoch. */
  lastRefresh: number | null;
  /** Consecutive failed refreshes since the last success. */
  refreshFailures: number;
  /** Upstream error code of the last failed refresh (never a body or token). */
  lastRefreshError: string | null;
  /** Last refresh attempt, successful or not, ms since epoch. */
  lastRefreshAt: number | null;
  updatedAt: number;
}

interface AccountRow {
  id: string;
  name: string;
  email: string | null;
  plan: string | null;
  account_id: string | null;
  user_id: string | null;
  format: string;
  source_kind: string;
  source_path: string | null;
  source_index: number | null;
  disabled: number;
  added_at: number | null;
  last_used: number | null;
  created_at: number;
  updated_at: number;
}

interface TokenRow {
  account_id: string;
  access_expires_at: number | null;
  last_refresh: number | null;
  refresh_failures: number;
  last_refresh_error: string | null;
  last_refresh_at: number | null;
  updated_at: number;
}

const num = (v: unknown): number | null => (v == null ? null : Number(v));

function toAccount(r: AccountRow): StoredAccount {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    plan: r.plan,
    accountId: r.account_id,
    userId: r.user_id ?? null,
    format: r.format as AuthFileFormat,
    sourceKind: r.source_kind as AccountSourceKind,
    sourcePath: r.source_path,
    sourceIndex: num(r.source_index),
    disabled: Number(r.disabled) !== 0,
    addedAt: num(r.added_at),
    lastUsed: num(r.last_used),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toTokenState(r: TokenRow): TokenState {
  return {
    accountId: r.account_id,
    accessExpiresAt: num(r.access_expires_at),
    lastRefresh: num(r.last_refresh),
    refreshFailures: Number(r.refresh_failures),
    lastRefreshError: r.last_refresh_error,
    lastRefreshAt: num(r.last_refresh_at),
    updatedAt: Number(r.updated_at),
  };
}

const COLUMNS =
  'id, name, email, plan, account_id, user_id, format, source_kind, source_path, source_index, disabled, added_at, last_used, created_at, updated_at';

/** The fields a read of the sources can change, with their columns: a row is rewritten when one differs. */
const SOURCE_FIELDS = {
  name: 'name',
  email: 'email',
  plan: 'plan',
  accountId: 'account_id',
  format: 'format',
  sourceKind: 'source_kind',
  sourcePath: 'source_path',
  sourceIndex: 'source_index',
  disabled: 'disabled',
} as const;
type SourceField = keyof typeof SOURCE_FIELDS;
const SOURCE_FIELD_NAMES = Object.keys(SOURCE_FIELDS) as SourceField[];

type SourceAccount = Pick<StoredAccount, 'id' | SourceField>;

/**
 * [id, ...SOURCE_FIELDS] of each account as one JSON text: what changed() compares with the rows, and what
 * writeChanged records (equal only for the same accounts, in the same order, with the same source fields).
 */
export function sourceRows(accounts: readonly SourceAccount[]): string {
  return JSON.stringify(
    accounts.map((a) => {
      const row: unknown[] = [a.id];
      for (const f of SOURCE_FIELD_NAMES) row.push(a[f]);
      return row;
    }),
  );
}

/** What writeChanged did: nothing (no comparison needed), or a comparison that wrote `written` rows. */
export type SourceSync = { compared: false } | { compared: true; written: number };

/** The statement every trigger on `accounts` runs (migration 5); here it takes the counter's row first. */
const BUMP_GENERATION = `INSERT INTO accounts_generation (id, generation) VALUES (1, 1)
  ON CONFLICT (id) DO UPDATE SET generation = accounts_generation.generation + 1, checked_sources = NULL`;

/** 1 when the last comparison was of these sources and nothing has written to `accounts` since. */
const UNCHANGED_SINCE_CHECKED = `SELECT CASE WHEN checked_generation = generation AND checked_sources = ? THEN 1 ELSE 0 END
  AS unchanged FROM accounts_generation WHERE id = 1`;

/**
 * SQLite compares the accounts (a JSON array of [id, ...SOURCE_FIELDS]) with their rows and names those that
 * differ or have none, so a read of 1000 unchanged accounts builds no row objects (~2% of a cached report).
 * JSON true and false read back as 1 and 0, as `disabled` is stored.
 */
const CHANGED_SQLITE = `SELECT j.value ->> 0 AS id FROM json_each(?) j LEFT JOIN accounts a ON a.id = j.value ->> 0
  WHERE a.id IS NULL OR ${SOURCE_FIELD_NAMES.map((f, i) => `a.${SOURCE_FIELDS[f]} IS NOT j.value ->> ${i + 1}`).join(' OR ')}`;

const UPSERT = `INSERT INTO accounts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, plan = excluded.plan,
  account_id = excluded.account_id, user_id = excluded.user_id, format = excluded.format, source_kind = excluded.source_kind,
  source_path = excluded.source_path, source_index = excluded.source_index, disabled = excluded.disabled,
  added_at = COALESCE(excluded.added_at, accounts.added_at), last_used = COALESCE(excluded.last_used, accounts.last_used),
  updated_at = excluded.updated_at`;

export class AccountsRepo {
  readonly db: Db;
  readonly clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  /** Inserts or updates by id; created_at is kept from the first insert. Credentials are ignored. */
  async upsert(account: AccountInput): Promise<void> {
    const now = this.clock();
    await this.db.run(UPSERT, [
      account.id,
      account.name,
      account.email,
      account.plan,
      account.accountId,
      account.userId ?? null,
      account.format,
      account.sourceKind,
      account.sourcePath,
      account.sourceIndex,
      account.disabled ? 1 : 0,
      account.addedAt,
      account.lastUsed,
      now,
      now,
    ]);
  }

  /** Upserts many in one transaction (imports of hundreds of files). */
  async upsertMany(accounts: readonly AccountInput[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const repo = new AccountsRepo(tx, this.clock);
      for (const a of accounts) await repo.upsert(a);
    });
  }

  async list(): Promise<StoredAccount[]> {
    const rows = await this.db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts ORDER BY name, id`);
    return rows.map(toAccount);
  }

  /** Files an operator imported from outside the sources: every stored local path (the registry filters them). */
  async storedPaths(): Promise<Array<Pick<StoredAccount, 'sourcePath' | 'sourceKind'>>> {
    return this.db.query<Pick<StoredAccount, 'sourcePath' | 'sourceKind'>>(
      `SELECT source_path AS "sourcePath", source_kind AS "sourceKind" FROM accounts
       WHERE source_path IS NOT NULL AND source_kind <> 'cpa'`,
    );
  }

  /**
   * The accounts whose row is missing or differs in a field their source gives (what upsertMany should write).
   * `sources`: sourceRows(accounts), when the caller has already built it.
   */
  async changed<A extends SourceAccount>(accounts: readonly A[], sources?: string): Promise<A[]> {
    if (accounts.length === 0) return [];
    if (this.db.dialect === 'sqlite') {
      const ids = new Set(
        (await this.db.query<{ id: string }>(CHANGED_SQLITE, [sources ?? sourceRows(accounts)])).map((r) => r.id),
      );
      return accounts.filter((a) => ids.has(a.id));
    }
    const byId = new Map((await this.list()).map((s) => [s.id, s]));
    return accounts.filter((a) => {
      const s = byId.get(a.id);
      return !s || SOURCE_FIELD_NAMES.some((f) => s[f] !== a[f]);
    });
  }

  /**
   * upsertMany(changed(accounts)), skipped when the last comparison was of the same sources and nothing has
   * written to `accounts` since (the generation its triggers bump). A cached report over 1000 unchanged
   * accounts then reads one row instead of comparing 1000.
   */
  async writeChanged(accounts: readonly AccountInput[]): Promise<SourceSync> {
    const sources = sourceRows(accounts);
    // One read outside any transaction: a record at the current generation was true when written and no
    // write has committed since (and BEGIN IMMEDIATE here would make every report wait for SQLite's writer).
    // No row, or a record of other sources or of an older generation: compare, as without the record.
    const last = await this.db.get<{ unchanged: number }>(UNCHANGED_SINCE_CHECKED, [sources]);
    if (Number(last?.unchanged) === 1) return { compared: false };
    return this.db.transaction(async (tx) => {
      // Holding the counter's row, nobody else writes `accounts` until we commit (SQLite: BEGIN IMMEDIATE;
      // PostgreSQL: every writer's trigger takes that row first), so the rows compared are the rows
      // committed, and the generation recorded below counts every write up to ours.
      await tx.run(BUMP_GENERATION);
      const repo = new AccountsRepo(tx, this.clock);
      const changed = await repo.changed(accounts, sources);
      if (changed.length > 0) await repo.upsertMany(changed);
      await tx.run('UPDATE accounts_generation SET checked_generation = generation, checked_sources = ? WHERE id = 1', [
        sources,
      ]);
      return { compared: true, written: changed.length };
    });
  }

  async get(id: string): Promise<StoredAccount | undefined> {
    const row = await this.db.get<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`, [id]);
    return row ? toAccount(row) : undefined;
  }

  /** By display name; when several sources share a name, the oldest wins (use ids to be exact). */
  async getByName(name: string): Promise<StoredAccount | undefined> {
    const row = await this.db.get<AccountRow>(
      `SELECT ${COLUMNS} FROM accounts WHERE name = ? ORDER BY created_at, id LIMIT 1`,
      [name],
    );
    return row ? toAccount(row) : undefined;
  }

  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const r = await this.db.run('UPDATE accounts SET disabled = ?, updated_at = ? WHERE id = ?', [
      disabled ? 1 : 0,
      this.clock(),
      id,
    ]);
    return r.changes > 0;
  }

  async touchLastUsed(id: string, at: number = this.clock()): Promise<void> {
    await this.db.run('UPDATE accounts SET last_used = ?, updated_at = ? WHERE id = ?', [at, this.clock(), id]);
  }

  /** Removes the account and everything recorded about it. Returns false if it did not exist. */
  async remove(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const r = await tx.run('DELETE FROM accounts WHERE id = ?', [id]);
      await tx.run('DELETE FROM token_state WHERE account_id = ?', [id]);
      await tx.run('DELETE FROM quota_latest WHERE account_id = ?', [id]);
      await tx.run('DELETE FROM quota_snapshots WHERE account_id = ?', [id]);
      await tx.run('DELETE FROM account_flags WHERE account_id = ?', [id]);
      return r.changes > 0;
    });
  }

  async getTokenState(id: string): Promise<TokenState | undefined> {
    const row = await this.db.get<TokenRow>('SELECT * FROM token_state WHERE account_id = ?', [id]);
    return row ? toTokenState(row) : undefined;
  }

  async listTokenStates(): Promise<TokenState[]> {
    const rows = await this.db.query<TokenRow>('SELECT * FROM token_state ORDER BY account_id');
    return rows.map(toTokenState);
  }

  /** Records the expiry read from a token (JWT exp or the file's field) without touching refresh history. */
  async setAccessExpiry(id: string, accessExpiresAt: number | null): Promise<void> {
    await this.db.run(
      `INSERT INTO token_state (account_id, access_expires_at, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET access_expires_at = excluded.access_expires_at, updated_at = excluded.updated_at`,
      [id, accessExpiresAt, this.clock()],
    );
  }

  async recordRefreshSuccess(id: string, accessExpiresAt: number | null, at: number = this.clock()): Promise<void> {
    await this.db.run(
      `INSERT INTO token_state (account_id, access_expires_at, last_refresh, refresh_failures, last_refresh_error, last_refresh_at, updated_at)
       VALUES (?, ?, ?, 0, NULL, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET access_expires_at = excluded.access_expires_at,
         last_refresh = excluded.last_refresh, refresh_failures = 0, last_refresh_error = NULL,
         last_refresh_at = excluded.last_refresh_at, updated_at = excluded.updated_at`,
      [id, accessExpiresAt, at, at, this.clock()],
    );
  }

  /** `errorCode` is the upstream code (e.g. refresh_token_reused), never a body or token. */
  async recordRefreshFailure(id: string, errorCode: string, at: number = this.clock()): Promise<TokenState> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO token_state (account_id, refresh_failures, last_refresh_error, last_refresh_at, updated_at)
         VALUES (?, 1, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET refresh_failures = token_state.refresh_failures + 1,
           last_refresh_error = excluded.last_refresh_error, last_refresh_at = excluded.last_refresh_at,
           updated_at = excluded.updated_at`,
        [id, errorCode, at, this.clock()],
      );
      const row = await tx.get<TokenRow>('SELECT * FROM token_state WHERE account_id = ?', [id]);
      return toTokenState(row!);
    });
  }
}
