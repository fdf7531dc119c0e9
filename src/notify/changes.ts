// Pure: what changed since the last look, as notification events. One state change is one event, with a
// stable dedupe key, so a repeated sweep or a retried send never produces a second message.
import type { AccountState } from '../domain/quota.ts';

export interface AccountStateView {
  id: string;
  name: string;
  state: AccountState;
  reason: string;
  /** When the state was observed (ms); transitions are keyed by account + from + to + first observation. */
  observedAt: number;
}

export type NotificationEvent =
  | {
      kind: 'account_state_changed';
      key: string;
      accountId: string;
      accountName: string;
      from: AccountState | null;
      to: AccountState;
      reason: string;
      at: number;
    }
  | {
      /** Issue 20: requests through CPA disagree with the account's last probe (a re-probe follows). */
      kind: 'requests_disagree';
      key: string;
      accountId: string;
      accountName: string;
      disagreement: string;
      summary: string;
      at: number;
    }
  | {
      kind: 'pool_low' | 'pool_recovered';
      key: string;
      usable: number;
      total: number;
      threshold: number;
      at: number;
    };

/** States that never count as a change on their own: a transient failure says nothing about the account. */
const SILENT_STATES: ReadonlySet<AccountState> = new Set(['unknown']);

export interface ChangeInput {
  previous: ReadonlyMap<string, AccountState>;
  current: readonly AccountStateView[];
  /** Whether the pool was below the threshold at the last look. */
  poolWasLow: boolean;
  /** Usable-account fraction (0..1) below which the pool is "low". */
  poolLowFraction: number;
  now: number;
}

export interface ChangeOutput {
  events: NotificationEvent[];
  next: Map<string, AccountState>;
  poolIsLow: boolean;
}

export function detectChanges(input: ChangeInput): ChangeOutput {
  const events: NotificationEvent[] = [];
  const next = new Map(input.previous);
  for (const account of input.current) {
    if (SILENT_STATES.has(account.state)) continue;
    const from = input.previous.get(account.id) ?? null;
    next.set(account.id, account.state);
    // The first sighting of a healthy account is not news; the first sighting of a broken one is.
    if (from === account.state || (from === null && account.state === 'ok')) continue;
    events.push({
      kind: 'account_state_changed',
      key: `state:${account.id}:${from ?? 'new'}:${account.state}:${account.observedAt}`,
      accountId: account.id,
      accountName: account.name,
      from,
      to: account.state,
      reason: account.reason,
      at: account.observedAt,
    });
  }
  const known = input.current.filter((a) => !SILENT_STATES.has(a.state));
  const usable = known.filter((a) => a.state === 'ok').length;
  const total = input.current.length;
  const poolIsLow = total > 0 && usable / total < input.poolLowFraction;
  if (poolIsLow !== input.poolWasLow && total > 0) {
    events.push({
      kind: poolIsLow ? 'pool_low' : 'pool_recovered',
      key: `pool:${poolIsLow ? 'low' : 'recovered'}:${input.now}`,
      usable,
      total,
      threshold: input.poolLowFraction,
      at: input.now,
    });
  }
  return { events, next, poolIsLow };
}

/** One disagreement is one event: keyed by account, kind and when it was detected. */
export function disagreementEvent(
  account: { id: string; name: string },
  d: { kind: string; summary: string; detectedAt: string },
): NotificationEvent {
  const at = Date.parse(d.detectedAt);
  return {
    kind: 'requests_disagree',
    key: `disagree:${account.id}:${d.kind}:${at}`,
    accountId: account.id,
    accountName: account.name,
    disagreement: d.kind,
    summary: d.summary,
    at,
  };
}

export function describeEvent(event: NotificationEvent): string {
  if (event.kind === 'requests_disagree') {
    return `codex-fleet: account ${event.accountName}: requests disagree with its probe: ${event.summary} (re-probing)`;
  }
  if (event.kind === 'account_state_changed') {
    const from = event.from ?? 'new';
    return `codex-fleet: account ${event.accountName} ${from} → ${event.to} (${event.reason})`;
  }
  const pct = Math.round(event.threshold * 100);
  return event.kind === 'pool_low'
    ? `codex-fleet: pool low: ${event.usable} of ${event.total} accounts usable (threshold ${pct}%)`
    : `codex-fleet: pool recovered: ${event.usable} of ${event.total} accounts usable`;
}
