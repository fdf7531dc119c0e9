// The action queue, disable ownership and the audit log. Every state change of an action and every
// executed change writes an audit row: who (a person or a schedule), what, when, why, evidence, result.

import type { DisableOwnership, SuggestedAction } from '../domain/inspection.ts';
import type { Clock } from '../domain/time.ts';
import { nodeCrypto } from '../runtime/crypto.ts';
import type { Db } from '../store/db.ts';

export const ACTION_STATUSES = ['pending', 'approved', 'rejected', 'done', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export type ActionOrigin = 'inspection' | 'policy' | 'manual';

/** Evidence as stored and served: flat JSON-safe values, never a token or raw body. */
export type EvidenceRecord = Record<string, string | number | boolean | null>;

export interface QueuedAction {
  id: string;
  accountId: string;
  accountName: string;
  action: SuggestedAction;
  status: ActionStatus;
  origin: ActionOrigin;
  reason: string;
  evidence: EvidenceRecord;
  runId: string | null;
  createdAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  result: string | null;
}

export interface AuditRecord {
  id: string;
  at: number;
  actor: string;
  action: string;
  accountId: string | null;
  accountName: string | null;
  reason: string;
  evidence: EvidenceRecord;
  result: string;
}

interface ActionRow {
  id: string;
  account_id: string;
  account_name: string;
  action: string;
  status: string;
  origin: string;
  reason: string;
  evidence: string;
  run_id: string | null;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  result: string | null;
}

const toAction = (r: ActionRow): QueuedAction => ({
  id: r.id,
  accountId: r.account_id,
  accountName: r.account_name,
  action: r.action as SuggestedAction,
  status: r.status as ActionStatus,
  origin: r.origin as ActionOrigin,
  reason: r.reason,
  evidence: JSON.parse(r.evidence),
  runId: r.run_id,
  createdAt: Number(r.created_at),
  decidedAt: r.decided_at == null ? null : Number(r.decided_at),
  decidedBy: r.decided_by,
  result: r.result,
});

export class ActionsRepo {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Queues an action unless the same action for the same account is already pending: a schedule
   * that inspects every hour must not pile up 24 identical approvals.
   */
  async enqueue(
    input: Omit<QueuedAction, 'id' | 'status' | 'createdAt' | 'decidedAt' | 'decidedBy' | 'result'>,
  ): Promise<QueuedAction> {
    return this.#db.transaction(async (tx) => {
      const existing = await tx.get<ActionRow>(
        "SELECT * FROM actions WHERE account_id = ? AND action = ? AND status = 'pending'",
        [input.accountId, input.action],
      );
      if (existing) {
        await tx.run('UPDATE actions SET reason = ?, evidence = ?, run_id = ? WHERE id = ?', [
          input.reason,
          JSON.stringify(input.evidence),
          input.runId,
          existing.id,
        ]);
        return { ...toAction(existing), reason: input.reason, evidence: input.evidence, runId: input.runId };
      }
      const action: QueuedAction = {
        ...input,
        id: nodeCrypto().randomUUID(),
        status: 'pending',
        createdAt: this.#clock(),
        decidedAt: null,
        decidedBy: null,
        result: null,
      };
      await tx.run(
        `INSERT INTO actions (id, account_id, account_name, action, status, origin, reason, evidence, run_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          action.id,
          action.accountId,
          action.accountName,
          action.action,
          action.status,
          action.origin,
          action.reason,
          JSON.stringify(action.evidence),
          action.runId,
          action.createdAt,
        ],
      );
      return action;
    });
  }

  /** Pending actions of an account that no longer apply (e.g. a Disable once it recovered) are withdrawn. */
  async withdrawPending(accountId: string, except: SuggestedAction | null, why: string): Promise<number> {
    const rows = await this.#db.query<ActionRow>("SELECT * FROM actions WHERE account_id = ? AND status = 'pending'", [
      accountId,
    ]);
    let n = 0;
    for (const row of rows) {
      if (row.action === except) continue;
      await this.#db.run(
        "UPDATE actions SET status = 'rejected', decided_at = ?, decided_by = 'codex-fleet', result = ? WHERE id = ?",
        [this.#clock(), `withdrawn: ${why}`, row.id],
      );
      n++;
    }
    return n;
  }

  async get(id: string): Promise<QueuedAction | undefined> {
    const row = await this.#db.get<ActionRow>('SELECT * FROM actions WHERE id = ?', [id]);
    return row ? toAction(row) : undefined;
  }

  async list(status?: ActionStatus, limit = 500): Promise<QueuedAction[]> {
    const rows = status
      ? await this.#db.query<ActionRow>('SELECT * FROM actions WHERE status = ? ORDER BY created_at DESC LIMIT ?', [
          status,
          limit,
        ])
      : await this.#db.query<ActionRow>('SELECT * FROM actions ORDER BY created_at DESC LIMIT ?', [limit]);
    return rows.map(toAction);
  }

  /** Moves an action on; only from the given states, so a double approval is a no-op, not a double execution. */
  async transition(
    id: string,
    from: readonly ActionStatus[],
    to: ActionStatus,
    by: string | null,
    result: string | null = null,
  ): Promise<QueuedAction | undefined> {
    const placeholders = from.map(() => '?').join(', ');
    const changed = await this.#db.run(
      `UPDATE actions SET status = ?, decided_at = COALESCE(decided_at, ?), decided_by = COALESCE(?, decided_by), result = COALESCE(?, result)
       WHERE id = ? AND status IN (${placeholders})`,
      [to, this.#clock(), by, result, id, ...from],
    );
    if (changed.changes === 0) return undefined;
    return this.get(id);
  }

  async ownership(accountId: string): Promise<DisableOwnership | null> {
    const row = await this.#db.get<{
      disabled_by: string;
      actor: string | null;
      reason: string;
      state: string | null;
      disabled_at: number;
      until_at: number | null;
    }>('SELECT * FROM disable_ownership WHERE account_id = ?', [accountId]);
    if (!row) return null;
    return {
      disabledBy: row.disabled_by as DisableOwnership['disabledBy'],
      actor: row.actor,
      reason: row.reason,
      state: row.state,
      disabledAt: Number(row.disabled_at),
      until: row.until_at == null ? null : Number(row.until_at),
    };
  }

  async setOwnership(accountId: string, o: DisableOwnership | null): Promise<void> {
    if (!o) {
      await this.#db.run('DELETE FROM disable_ownership WHERE account_id = ?', [accountId]);
      return;
    }
    await this.#db.run(
      `INSERT INTO disable_ownership (account_id, disabled_by, actor, reason, state, disabled_at, until_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET disabled_by = excluded.disabled_by, actor = excluded.actor, reason = excluded.reason,
         state = excluded.state, disabled_at = excluded.disabled_at, until_at = excluded.until_at`,
      [accountId, o.disabledBy, o.actor, o.reason, o.state, o.disabledAt, o.until],
    );
  }

  async audit(entry: Omit<AuditRecord, 'id' | 'at'> & { at?: number }): Promise<AuditRecord> {
    const record: AuditRecord = { ...entry, id: nodeCrypto().randomUUID(), at: entry.at ?? this.#clock() };
    await this.#db.run(
      'INSERT INTO audit_log (id, at, actor, action, account_id, account_name, reason, evidence, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        record.id,
        record.at,
        record.actor,
        record.action,
        record.accountId,
        record.accountName,
        record.reason,
        JSON.stringify(record.evidence),
        record.result,
      ],
    );
    return record;
  }

  async auditLog(limit = 200): Promise<AuditRecord[]> {
    const rows = await this.#db.query<{
      id: string;
      at: number;
      actor: string;
      action: string;
      account_id: string | null;
      account_name: string | null;
      reason: string;
      evidence: string;
      result: string;
    }>('SELECT * FROM audit_log ORDER BY at DESC LIMIT ?', [limit]);
    return rows.map((r) => ({
      id: r.id,
      at: Number(r.at),
      actor: r.actor,
      action: r.action,
      accountId: r.account_id,
      accountName: r.account_name,
      reason: r.reason,
      evidence: JSON.parse(r.evidence),
      result: r.result,
    }));
  }
}
