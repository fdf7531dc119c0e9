// Named leases with a holder, an expiry and a fencing token, atomic on both backends through one
// INSERT … ON CONFLICT … WHERE … RETURNING. The token grows every time the lease changes hands (or is
// taken again after expiring), so work stamped with an older token can be refused downstream.
// Expiry uses the caller's clock: instances sharing a database need roughly synchronized clocks (NTP).
// A holder on this host whose process is gone (SIGKILL, crash) is taken over at once instead of
// waiting for expiry; holders on other hosts keep the expiry rule.
import { hostname } from 'node:os';
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';

export interface Lease {
  name: string;
  holder: string;
  token: number;
  expiresAt: number;
  acquiredAt: number;
}

interface LeaseRow {
  name: string;
  holder: string;
  token: number;
  expires_at: number;
  acquired_at: number;
}

const toLease = (r: LeaseRow): Lease => ({
  name: r.name,
  holder: r.holder,
  token: Number(r.token),
  expiresAt: Number(r.expires_at),
  acquiredAt: Number(r.acquired_at),
});

// Same holder with a live lease: extend, keep token and acquired_at. Otherwise only an expired lease is taken.
const ACQUIRE = `INSERT INTO leases (name, holder, token, expires_at, acquired_at) VALUES (?, ?, 1, ?, ?)
ON CONFLICT (name) DO UPDATE SET
  token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ? THEN leases.token ELSE leases.token + 1 END,
  acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ? THEN leases.acquired_at ELSE excluded.acquired_at END,
  holder = excluded.holder,
  expires_at = excluded.expires_at
WHERE leases.expires_at <= ? OR leases.holder = excluded.holder
RETURNING name, holder, token, expires_at, acquired_at`;

// Takeover of a dead holder: only if the row still names that holder with that token, and the token
// grows, so the dead holder's work stays fenced off and two restarts racing cannot both win.
const TAKE_OVER = `UPDATE leases SET holder = ?, token = token + 1, expires_at = ?, acquired_at = ?
WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?
RETURNING name, holder, token, expires_at, acquired_at`;

/**
 * True when `holder` ("host:pid", optionally ":more") names a process on this host that no longer
 * exists. Anything else (another host, a live pid, an unparseable holder, a pid we may not signal)
 * is false: when in doubt, wait for expiry. Hosts sharing one hostname must not share a database.
 */
export function holderProcessGone(holder: string, host: string = hostname()): boolean {
  const [h, p] = holder.split(':');
  if (h !== host || p === undefined || !/^\d+$/.test(p)) return false;
  const pid = Number(p);
  if (pid <= 1 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function checkArgs(name: string, holder: string, ttlMs: number): void {
  if (name === '' || holder === '') throw new Error('lease name and holder must not be empty');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`lease ttl must be a positive number of ms, got ${ttlMs}`);
}

export class LeaseStore {
  readonly db: Db;
  readonly clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  /** Takes the lease if it is free or expired (or already ours); null when someone else holds it. */
  async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    checkArgs(name, holder, ttlMs);
    const now = this.clock();
    const row = await this.db.get<LeaseRow>(ACQUIRE, [name, holder, now + ttlMs, now, now, now, now]);
    return row ? toLease(row) : null;
  }

  /**
   * acquire(), and when a live lease is held by a process on this host that is gone, takes it over
   * now (new token) instead of waiting for its expiry.
   */
  async acquireOrTakeOver(
    name: string,
    holder: string,
    ttlMs: number,
    gone: (holder: string) => boolean = holderProcessGone,
  ): Promise<Lease | null> {
    const got = await this.acquire(name, holder, ttlMs);
    if (got) return got;
    const cur = await this.current(name);
    if (!cur || cur.holder === holder || !gone(cur.holder)) return null;
    const now = this.clock();
    const row = await this.db.get<LeaseRow>(TAKE_OVER, [holder, now + ttlMs, now, name, cur.holder, cur.token, now]);
    return row ? toLease(row) : null;
  }

  /** Extends a live lease we hold with this token; null when it expired or changed hands (we lost it). */
  async renew(name: string, holder: string, token: number, ttlMs: number): Promise<Lease | null> {
    checkArgs(name, holder, ttlMs);
    const now = this.clock();
    const row = await this.db.get<LeaseRow>(
      `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?
       RETURNING name, holder, token, expires_at, acquired_at`,
      [now + ttlMs, name, holder, token, now],
    );
    return row ? toLease(row) : null;
  }

  /** Gives the lease up early so another instance can take it now. The row stays so tokens keep growing. */
  async release(name: string, holder: string, token: number): Promise<boolean> {
    const now = this.clock();
    const r = await this.db.run(
      'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?',
      [now, name, holder, token, now],
    );
    return r.changes > 0;
  }

  /**
   * Fencing check for leader-only writes: true while `holder` still holds the lease with `token`.
   * Call it inside the transaction that does the write; on PostgreSQL the row stays share-locked
   * until that transaction ends, so no takeover can slip in between the check and the commit.
   */
  async holds(name: string, holder: string, token: number): Promise<boolean> {
    const lock = this.db.dialect === 'postgres' ? ' FOR SHARE' : '';
    const row = await this.db.get(
      `SELECT 1 AS one FROM leases WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?${lock}`,
      [name, holder, token, this.clock()],
    );
    return row !== undefined;
  }

  /** The live lease, or null when none is held. */
  async current(name: string): Promise<Lease | null> {
    const row = await this.db.get<LeaseRow>(
      'SELECT name, holder, token, expires_at, acquired_at FROM leases WHERE name = ? AND expires_at > ?',
      [name, this.clock()],
    );
    return row ? toLease(row) : null;
  }
}
