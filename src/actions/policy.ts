// The action policy: given an inspection, who disabled the account (if anyone), the operator's
// opt-ins and the time, decide whether to do nothing, queue for approval, or act automatically.
// Pure. The same rules are a table in docs/policy.md; keep both in step.
import type {
  DisableOwnership,
  InspectionResult,
  InspectionThresholds,
  PolicyDecision,
  PolicySettings,
  SuggestedAction,
} from '../domain/inspection.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../domain/inspection.ts';
import { formatDuration } from '../domain/time.ts';

/** Manual by default: every suggestion waits for approval. */
export interface PolicyInput {
  inspection: InspectionResult;
  /** Who disabled the account; null when there is no record (disabled outside codex-fleet, or enabled). */
  ownership: DisableOwnership | null;
  /** Earlier inspections of the same account, any order: delete evidence must be seen twice. */
  history?: readonly InspectionResult[];
  settings: PolicySettings;
  now: number;
}

const none = (reason: string): PolicyDecision => ({ decision: 'none', action: null, reason });
const run = (action: SuggestedAction, auto: boolean, reason: string): PolicyDecision => ({
  decision: auto ? 'auto' : 'queue',
  action,
  reason: auto ? `${reason} (automatic: opted in)` : `${reason} (waits for approval)`,
});

export function decideAction(input: PolicyInput): PolicyDecision {
  const { inspection: r, ownership, settings, now } = input;
  // Unknown stays unknown: a failed probe never leads to any action.
  if (r.state === 'unknown' || r.evidence.transient) return none(`no action: ${r.reason}`);
  switch (r.action) {
    case 'Keep':
      return none(r.reason);
    case 'Reauth':
      // Only a person can sign in again; and only a 401 / dead refresh token is an auth verdict.
      if (r.state !== 'auth_invalid' && r.state !== 'auth_expired') return none(`no action: ${r.reason}`);
      return run('Reauth', false, r.reason);
    case 'Disable':
      if (r.disabled) return none(`already disabled: ${r.reason}`);
      return run('Disable', settings.autoDisable, r.reason);
    case 'Enable':
      return decideEnable(r, ownership, settings, now);
    case 'Delete':
      return decideDelete(r, input.history ?? [], settings);
  }
}

function decideEnable(
  r: InspectionResult,
  ownership: DisableOwnership | null,
  settings: PolicySettings,
  now: number,
): PolicyDecision {
  if (!r.disabled) return none('already enabled');
  if (ownership?.disabledBy === 'person') {
    const who = ownership.actor ? ` by ${ownership.actor}` : ' by a person';
    return none(`disabled${who} (${ownership.reason}); codex-fleet never re-enables it`);
  }
  if (!ownership) return run('Enable', false, `${r.reason}; disabled outside codex-fleet, so a person decides`);
  if (ownership.until != null && now < ownership.until) {
    return none(
      `disabled by codex-fleet until the reset in ${formatDuration((ownership.until - now) / 1000)}; reason not cleared yet`,
    );
  }
  return run(
    'Enable',
    settings.autoEnable,
    `${r.reason}; codex-fleet disabled it (${ownership.reason}) and that has cleared`,
  );
}

function decideDelete(
  r: InspectionResult,
  history: readonly InspectionResult[],
  settings: PolicySettings,
): PolicyDecision {
  const disable = (why: string) =>
    r.disabled
      ? none(`already disabled; ${why}`)
      : run('Disable', settings.autoDisable, `${r.reason}; ${why}, disabling instead`);
  if (!settings.autoDelete) return disable('auto-delete is not enabled, deleting is left to a person');
  const since = confirmedSince(r, history);
  const needMs = settings.deleteConfirmMinutes * 60_000;
  if (since == null)
    return disable(
      `delete evidence seen once; needs a second inspection at least ${settings.deleteConfirmMinutes}m later`,
    );
  if (r.inspectedAt - since < needMs) {
    return disable(
      `delete evidence seen ${formatDuration((r.inspectedAt - since) / 1000)} apart; needs ${settings.deleteConfirmMinutes}m`,
    );
  }
  return run(
    'Delete',
    true,
    `${r.reason}; confirmed on inspections ${formatDuration((r.inspectedAt - since) / 1000)} apart`,
  );
}

/** Same permanent failure, same code. */
function sameDeleteEvidence(a: InspectionResult, b: InspectionResult): boolean {
  return (
    a.action === 'Delete' &&
    a.state === b.state &&
    a.evidence.errorCode === b.evidence.errorCode &&
    a.evidence.httpStatus === b.evidence.httpStatus &&
    !a.evidence.transient
  );
}

/**
 * When the current run of identical delete evidence began, over earlier inspections. Unknown
 * results neither break nor extend the run; any other informative result breaks it.
 */
export function confirmedSince(current: InspectionResult, history: readonly InspectionResult[]): number | null {
  const earlier = history
    .filter((h) => h.accountId === current.accountId && h.inspectedAt < current.inspectedAt)
    .sort((a, b) => a.inspectedAt - b.inspectedAt);
  let since: number | null = null;
  for (const h of earlier) {
    if (h.state === 'unknown' || h.evidence.transient) continue;
    if (sameDeleteEvidence(h, current)) since ??= h.inspectedAt;
    else since = null;
  }
  return since;
}

/**
 * The ownership record an executor stores when codex-fleet disables an account: `until` is the
 * latest reset among the windows that caused it, so auto-enable waits for it.
 */
export function ownershipForDisable(
  r: InspectionResult,
  actor: string,
  now: number,
  thresholds: InspectionThresholds = DEFAULT_INSPECTION_THRESHOLDS,
): DisableOwnership {
  const over = (w: InspectionResult['evidence']['windows'][number]) => {
    const t = w.kind === 'other' ? null : thresholds[w.kind];
    return t != null && (w.usedPercent ?? 0) >= Math.min(100, t.enabled ? t.disableAtUsedPercent : 100);
  };
  const resets = r.evidence.windows
    .filter((w) => (w.scope === 'primary' || w.scope === 'secondary') && w.resetsAt && over(w))
    .map((w) => Date.parse(w.resetsAt as string));
  if (r.evidence.resetsAt) resets.push(Date.parse(r.evidence.resetsAt));
  const valid = resets.filter(Number.isFinite);
  return {
    disabledBy: 'codex-fleet',
    actor,
    reason: r.reason,
    state: r.state,
    disabledAt: now,
    until: (r.state === 'exhausted' || r.state === 'ok') && valid.length ? Math.max(...valid) : null,
  };
}
