// Executes one queued action against the account's home (local file or CPA), records who owns a
// disable, updates the store and writes the audit row, success or failure. Idempotent: an executor
// that finds the account already in the wanted state changes nothing and says so.
import type { Account } from '../domain/account.ts';
import type { InspectionEvidence, InspectionResult, InspectionThresholds } from '../domain/inspection.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../domain/inspection.ts';
import type { Clock } from '../domain/time.ts';
import type { Repos } from '../store/index.ts';
import type { ActionsRepo, EvidenceRecord, QueuedAction } from './actions-repo.ts';
import type { AccountExecutor, ExecutorOutcome } from './executors/cpa.ts';
import { ownershipForDisable } from './policy.ts';

export interface ActionContext {
  repos: Repos;
  actions: ActionsRepo;
  executorFor(account: Account): AccountExecutor;
  clock: Clock;
  thresholds?: InspectionThresholds;
}

/** Actors: a person (`person:<name>`), a schedule (`schedule:<id>`), or codex-fleet's policy (`codex-fleet`). */
export function isPersonActor(actor: string): boolean {
  return actor.startsWith('person:') || actor === 'cli' || actor === 'web';
}

/** Flat, serveable evidence: the facts the decision was made from, never a token or a raw body. */
export function flattenEvidence(e: InspectionEvidence): EvidenceRecord {
  return {
    httpStatus: e.httpStatus,
    probeReason: e.probeReason,
    errorCode: e.errorCode,
    message: e.message,
    plan: e.plan,
    limitReached: e.limitReached,
    resetsAt: e.resetsAt,
    tokenExpiresAt: e.tokenExpiresAt,
    source: e.source,
    probedAt: e.probedAt,
    transient: e.transient,
    windows:
      e.windows
        .map(
          (w) =>
            `${w.limitName ?? w.kind} ${w.usedPercent == null ? '?' : `${w.usedPercent}%`} used${w.resetsAt ? `, resets ${w.resetsAt}` : ''}`,
        )
        .join('; ') || null,
  };
}

async function perform(action: QueuedAction, account: Account, executor: AccountExecutor): Promise<ExecutorOutcome> {
  switch (action.action) {
    case 'Disable':
      return executor.setDisabled(account, true);
    case 'Enable':
      return executor.setDisabled(account, false);
    case 'Delete':
      return executor.delete(account);
    case 'Reauth':
      return {
        ok: true,
        changed: false,
        message: 'acknowledged: a person must sign in again (codex login), then re-import the auth file',
      };
    case 'Keep':
      return { ok: true, changed: false, message: 'nothing to do' };
  }
}

export async function executeAction(
  ctx: ActionContext,
  action: QueuedAction,
  account: Account,
  actor: string,
  inspection: InspectionResult | null = null,
): Promise<QueuedAction> {
  const now = ctx.clock();
  let outcome: ExecutorOutcome;
  try {
    outcome = await perform(action, account, ctx.executorFor(account));
  } catch (error) {
    outcome = { ok: false, changed: false, message: `failed: ${(error as Error).message}` };
  }
  if (outcome.ok) {
    if (action.action === 'Disable') {
      await ctx.repos.accounts.setDisabled(account.id, true);
      const ownership =
        isPersonActor(actor) || !inspection
          ? { disabledBy: 'person' as const, actor, reason: action.reason, state: null, disabledAt: now, until: null }
          : ownershipForDisable(inspection, actor, now, ctx.thresholds ?? DEFAULT_INSPECTION_THRESHOLDS);
      // An account that was already disabled keeps its original owner: a person's disable stays a person's.
      const existing = await ctx.actions.ownership(account.id);
      if (outcome.changed || !existing) await ctx.actions.setOwnership(account.id, ownership);
    } else if (action.action === 'Enable') {
      await ctx.repos.accounts.setDisabled(account.id, false);
      await ctx.actions.setOwnership(account.id, null);
    } else if (action.action === 'Delete') {
      await ctx.actions.setOwnership(account.id, null);
      if (account.format !== 'multi-auth') await ctx.repos.accounts.remove(account.id);
    }
  }
  await ctx.actions.audit({
    actor,
    action: action.action,
    accountId: account.id,
    accountName: account.name,
    reason: action.reason,
    evidence: action.evidence,
    result: `${outcome.ok ? 'ok' : 'failed'}: ${outcome.message}`,
  });
  const done = await ctx.actions.transition(
    action.id,
    ['pending', 'approved'],
    outcome.ok ? 'done' : 'failed',
    actor,
    outcome.message,
  );
  return done ?? action;
}

/** A person's direct enable/disable from the CLI or the page: queued, executed and audited in one go. */
export async function manualSetDisabled(
  ctx: ActionContext,
  account: Account,
  disabled: boolean,
  actor: string,
): Promise<QueuedAction> {
  const queued = await ctx.actions.enqueue({
    accountId: account.id,
    accountName: account.name,
    action: disabled ? 'Disable' : 'Enable',
    origin: 'manual',
    reason: `${disabled ? 'disabled' : 'enabled'} by ${actor}`,
    evidence: {},
    runId: null,
  });
  await ctx.actions.transition(queued.id, ['pending'], 'approved', actor);
  return executeAction(ctx, queued, account, actor, null);
}

export type DecisionOutcome =
  | { ok: true; action: QueuedAction }
  | { ok: false; code: 'not_found' | 'conflict'; message: string };

/**
 * A person's approve or reject, for the CLI and the dashboard alike. Only a pending action moves, so a
 * double click never executes twice. Approval executes at once; rejection changes nothing but the queue.
 */
export async function decideQueuedAction(
  ctx: ActionContext,
  id: string,
  decision: 'approve' | 'reject',
  actor: string,
  findAccount: (accountId: string) => Promise<Account | null>,
): Promise<DecisionOutcome> {
  const action = await ctx.actions.get(id);
  if (!action) return { ok: false, code: 'not_found', message: `no action ${id}` };
  const moved = await ctx.actions.transition(id, ['pending'], decision === 'approve' ? 'approved' : 'rejected', actor);
  if (!moved) return { ok: false, code: 'conflict', message: `action ${id} is ${action.status}, not pending` };
  if (decision === 'reject') {
    await ctx.actions.audit({
      actor,
      action: `reject ${action.action}`,
      accountId: action.accountId,
      accountName: action.accountName,
      reason: action.reason,
      evidence: action.evidence,
      result: 'rejected',
    });
    return { ok: true, action: moved };
  }
  const account = await findAccount(action.accountId);
  if (!account) {
    const failed = await ctx.actions.transition(id, ['approved'], 'failed', actor, 'account no longer exists');
    return { ok: true, action: failed ?? moved };
  }
  return { ok: true, action: await executeAction(ctx, moved, account, actor, null) };
}
