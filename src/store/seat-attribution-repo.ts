// Moves history recorded under a bare workspace id (before seats were told apart, migration 2) to the
// one seat it belongs to, once the loaded accounts show which seats a workspace has. A workspace with
// several seats now cannot say whose history it was: its rows stay where they are and are marked
// `unattributed` (with a note naming the seats), never dropped or split by guesswork.
import type { Account } from '../domain/account.ts';
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';

export type AttributionStatus = 'pending' | 'moved' | 'kept' | 'unattributed';

export interface SeatAttribution {
  legacyId: string;
  workspaceId: string;
  email: string | null;
  sourcePath: string | null;
  status: AttributionStatus;
  seatId: string | null;
  note: string | null;
  updatedAt: number;
}

export type SeatCandidate = Pick<Account, 'id' | 'accountId' | 'email' | 'sourceKind'> & { userId?: string | null };

export type AttributionDecision =
  | { status: 'pending' }
  | { status: 'kept'; seatId: string }
  | { status: 'moved'; seatId: string; userId: string | null }
  | { status: 'unattributed'; note: string };

/** Pure: what happens to one legacy id, given the accounts loaded now. */
export function decideAttribution(
  legacy: Pick<SeatAttribution, 'legacyId' | 'workspaceId'>,
  accounts: readonly SeatCandidate[],
): AttributionDecision {
  // CPA accounts have ids of their own (cpa:<server>:<file>) and were never stored under a workspace id.
  const seats = accounts.filter((a) => a.accountId === legacy.workspaceId && a.sourceKind !== 'cpa');
  if (seats.some((a) => a.id === legacy.legacyId)) return { status: 'kept', seatId: legacy.legacyId };
  if (seats.length === 0) return { status: 'pending' };
  if (seats.length === 1) return { status: 'moved', seatId: seats[0].id, userId: seats[0].userId ?? null };
  const who = seats.map((s) => s.email ?? s.id).join(', ');
  return {
    status: 'unattributed',
    note: `${seats.length} seats (${who}) share workspace ${legacy.workspaceId}; what was recorded before seats were told apart stays under the workspace id`,
  };
}

/** Tables whose rows name one account; several rows per account. */
const MANY = ['quota_snapshots', 'actions', 'audit_log'] as const;
/** Tables with one row per account: a row already under the seat's id wins, the older one stays put. */
const ONE = ['token_state', 'quota_latest', 'account_flags', 'disable_ownership'] as const;

interface Row {
  legacy_id: string;
  workspace_id: string;
  email: string | null;
  source_path: string | null;
  status: string;
  seat_id: string | null;
  note: string | null;
  updated_at: number;
}

const toAttribution = (r: Row): SeatAttribution => ({
  legacyId: r.legacy_id,
  workspaceId: r.workspace_id,
  email: r.email,
  sourcePath: r.source_path,
  status: r.status as AttributionStatus,
  seatId: r.seat_id,
  note: r.note,
  updatedAt: Number(r.updated_at),
});

export class SeatAttributionRepo {
  readonly db: Db;
  readonly clock: Clock;
  /** Set once nothing is pending: nothing becomes pending again after the migration. */
  #settled = false;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  async list(): Promise<SeatAttribution[]> {
    const rows = await this.db.query<Row>('SELECT * FROM seat_attribution ORDER BY legacy_id');
    return rows.map(toAttribution);
  }

  /** Settles every pending legacy id the loaded accounts can settle; returns what changed. */
  async attribute(accounts: readonly SeatCandidate[]): Promise<SeatAttribution[]> {
    if (this.#settled) return [];
    const pending = (
      await this.db.query<Row>("SELECT * FROM seat_attribution WHERE status = 'pending' ORDER BY legacy_id")
    ).map(toAttribution);
    if (pending.length === 0) {
      this.#settled = true;
      return [];
    }
    const changed: SeatAttribution[] = [];
    for (const legacy of pending) {
      const decision = decideAttribution(legacy, accounts);
      if (decision.status === 'pending') continue;
      const now = this.clock();
      await this.db.transaction(async (tx) => {
        let note: string | null = null;
        let seatId: string | null = null;
        if (decision.status === 'moved') {
          seatId = decision.seatId;
          note = await moveRows(tx, legacy.legacyId, seatId, decision.userId);
        } else if (decision.status === 'kept') {
          seatId = decision.seatId;
        } else {
          note = decision.note;
        }
        await tx.run(
          'UPDATE seat_attribution SET status = ?, seat_id = ?, note = ?, updated_at = ? WHERE legacy_id = ?',
          [decision.status, seatId, note, now, legacy.legacyId],
        );
        changed.push({ ...legacy, status: decision.status, seatId, note, updatedAt: now });
      });
    }
    return changed;
  }
}

/** Re-keys everything recorded under `from` to `to` (one transaction, the caller's); says what stayed. */
async function moveRows(tx: Db, from: string, to: string, userId: string | null): Promise<string | null> {
  const stayed: string[] = [];
  const one = async (table: string, key: string) => {
    await tx.run(
      `UPDATE ${table} SET ${key} = ? WHERE ${key} = ? AND NOT EXISTS (SELECT 1 FROM ${table} t2 WHERE t2.${key} = ?)`,
      [to, from, to],
    );
    if (await tx.get(`SELECT 1 AS one FROM ${table} WHERE ${key} = ?`, [from])) stayed.push(table);
  };
  await one('accounts', 'id');
  await tx.run('UPDATE accounts SET user_id = ? WHERE id = ? AND user_id IS NULL', [userId, to]);
  for (const table of ONE) await one(table, 'account_id');
  for (const table of MANY) await tx.run(`UPDATE ${table} SET account_id = ? WHERE account_id = ?`, [to, from]);
  await tx.run(
    `UPDATE inspection_results SET account_id = ? WHERE account_id = ? AND NOT EXISTS
       (SELECT 1 FROM inspection_results r2 WHERE r2.run_id = inspection_results.run_id AND r2.account_id = ?)`,
    [to, from, to],
  );
  if (await tx.get('SELECT 1 AS one FROM inspection_results WHERE account_id = ?', [from])) {
    stayed.push('inspection_results');
  }
  return stayed.length === 0
    ? null
    : `rows in ${stayed.join(', ')} stay under ${from}: the seat already had its own there`;
}
