// Pure: which quota, pool and plan alerts a new look at the fleet raises, given what was already announced.
// Data in, events out, time passed in. Every event carries a stable key, so a repeated look, a retried
// send, a restart or a second instance can never announce the same thing twice.
import type { WindowKind, WindowScope } from '../domain/quota.ts';

/** Window kinds that can carry warning levels (per-feature limits are 'other' and opt-in). */
export const ALERT_WINDOW_KINDS = ['5h', 'weekly', 'monthly'] as const satisfies readonly WindowKind[];
export type AlertWindowKind = (typeof ALERT_WINDOW_KINDS)[number];

export interface AlertRuleSettings {
  /** Used-percent levels per window kind, e.g. { weekly: [80, 95] }. An empty list disables that kind. */
  windowLevels: Record<AlertWindowKind, number[]>;
  /** Also warn for additional (per-model) and code-review limits. Default false: they never block the account. */
  includeAdditional: boolean;
  /** Warn when the forecast says the pool runs out within this many hours (0 = off). */
  poolRunoutHorizonHours: number;
  /** Warn this many days before an account's paid plan ends (0 = off). */
  planExpiryDays: number;
}

export const DEFAULT_ALERT_RULES: AlertRuleSettings = {
  windowLevels: { '5h': [80, 95], weekly: [80, 95], monthly: [80, 95] },
  includeAdditional: false,
  poolRunoutHorizonHours: 6,
  planExpiryDays: 7,
};

export interface AlertWindowView {
  kind: WindowKind;
  scope: WindowScope;
  limitName: string | null;
  usedPercent: number | null;
  resetsAt: string | null;
}

export interface AlertAccountView {
  id: string;
  name: string;
  windows: readonly AlertWindowView[];
  /** ISO end of the paid plan, when known (from the subscriptions endpoint). */
  planEndsAt: string | null;
}

/** What was announced already, persisted between looks. */
export interface AlertMemory {
  /** account id → window key → highest level announced in the current period (0: none). */
  levels: Record<string, Record<string, { level: number; period: string }>>;
  /** account id → the plan end already warned about. */
  planWarned: Record<string, string>;
  /** The pool run-out already warned about (hour bucket), or null when outside the horizon. */
  poolRunoutWarned: string | null;
}

export const EMPTY_ALERT_MEMORY: AlertMemory = { levels: {}, planWarned: {}, poolRunoutWarned: null };

export type AlertEvent =
  | {
      kind: 'window_level_crossed';
      key: string;
      accountId: string;
      accountName: string;
      window: string;
      level: number;
      usedPercent: number;
      resetsAt: string | null;
      at: number;
    }
  | {
      kind: 'window_reset';
      key: string;
      accountId: string;
      accountName: string;
      window: string;
      previousLevel: number;
      usedPercent: number;
      at: number;
    }
  | { kind: 'pool_runout_ahead'; key: string; runsOutAt: number; hoursLeft: number; at: number }
  | {
      kind: 'plan_expiring';
      key: string;
      accountId: string;
      accountName: string;
      endsAt: string;
      daysLeft: number;
      at: number;
    };

export interface AlertInput {
  accounts: readonly AlertAccountView[];
  /** The forecast's pool run-out time (ms), or null when the pool does not run out. */
  poolRunsOutAt: number | null;
  memory: AlertMemory;
  settings: AlertRuleSettings;
  now: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Reset times drift by seconds between probes (reset_after_seconds is relative): a period is a 10-minute bucket. */
const PERIOD_BUCKET_MS = 600_000;

function windowKey(w: AlertWindowView): string {
  return w.limitName ? `${w.kind}:${w.scope}:${w.limitName}` : `${w.kind}:${w.scope}`;
}

function periodOf(resetsAt: string | null): string {
  const ms = resetsAt ? Date.parse(resetsAt) : Number.NaN;
  return Number.isFinite(ms) ? String(Math.round(ms / PERIOD_BUCKET_MS)) : 'unknown';
}

function levelsFor(w: AlertWindowView, settings: AlertRuleSettings): number[] {
  const main = w.scope === 'primary' || w.scope === 'secondary';
  if (!main && !settings.includeAdditional) return [];
  const kind = (ALERT_WINDOW_KINDS as readonly string[]).includes(w.kind) ? (w.kind as AlertWindowKind) : null;
  // A per-feature limit of an unusual length still warns at the weekly levels when it is opted in.
  return kind ? settings.windowLevels[kind] : settings.windowLevels.weekly;
}

/** The highest configured level that `used` has reached (0 when none). */
export function crossedLevel(used: number, levels: readonly number[]): number {
  let crossed = 0;
  for (const level of levels) if (used >= level && level > crossed) crossed = level;
  return crossed;
}

export function detectAlerts(input: AlertInput): { events: AlertEvent[]; memory: AlertMemory } {
  const { settings, now } = input;
  const events: AlertEvent[] = [];
  const levels: AlertMemory['levels'] = { ...input.memory.levels };
  const planWarned: AlertMemory['planWarned'] = { ...input.memory.planWarned };

  for (const account of input.accounts) {
    const before = input.memory.levels[account.id] ?? {};
    const after: Record<string, { level: number; period: string }> = { ...before };
    for (const w of account.windows) {
      const configured = levelsFor(w, settings);
      if (configured.length === 0 || w.usedPercent == null) continue;
      const key = windowKey(w);
      const previous = before[key] ?? { level: 0, period: periodOf(w.resetsAt) };
      const crossed = crossedLevel(w.usedPercent, configured);
      const period = periodOf(w.resetsAt);
      if (crossed > previous.level) {
        events.push({
          kind: 'window_level_crossed',
          key: `level:${account.id}:${key}:${crossed}:${period}`,
          accountId: account.id,
          accountName: account.name,
          window: key,
          level: crossed,
          usedPercent: w.usedPercent,
          resetsAt: w.resetsAt,
          at: now,
        });
        after[key] = { level: crossed, period };
      } else if (crossed < previous.level) {
        // Usage only falls when the window resets: announce it once, keyed by the period that ended.
        events.push({
          kind: 'window_reset',
          key: `reset:${account.id}:${key}:${previous.period}`,
          accountId: account.id,
          accountName: account.name,
          window: key,
          previousLevel: previous.level,
          usedPercent: w.usedPercent,
          at: now,
        });
        after[key] = { level: crossed, period };
      }
    }
    levels[account.id] = after;

    if (settings.planExpiryDays > 0 && account.planEndsAt) {
      const endsAt = Date.parse(account.planEndsAt);
      const left = endsAt - now;
      if (Number.isFinite(endsAt) && left > 0 && left <= settings.planExpiryDays * DAY_MS) {
        const day = new Date(endsAt).toISOString().slice(0, 10);
        if (planWarned[account.id] !== day) {
          events.push({
            kind: 'plan_expiring',
            key: `plan:${account.id}:${day}`,
            accountId: account.id,
            accountName: account.name,
            endsAt: new Date(endsAt).toISOString(),
            daysLeft: Math.ceil(left / DAY_MS),
            at: now,
          });
          planWarned[account.id] = day;
        }
      }
    }
  }

  let poolRunoutWarned = input.memory.poolRunoutWarned;
  const horizon = settings.poolRunoutHorizonHours * HOUR_MS;
  const runsOut = input.poolRunsOutAt;
  if (horizon > 0 && runsOut != null && runsOut - now <= horizon) {
    if (poolRunoutWarned == null) {
      const bucket = String(Math.floor(runsOut / HOUR_MS));
      events.push({
        kind: 'pool_runout_ahead',
        key: `runout:${bucket}`,
        runsOutAt: runsOut,
        hoursLeft: Math.max(0, Math.round(((runsOut - now) / HOUR_MS) * 10) / 10),
        at: now,
      });
      poolRunoutWarned = bucket;
    }
  } else {
    // Out of the horizon again: the next approach is news.
    poolRunoutWarned = null;
  }

  return { events, memory: { levels, planWarned, poolRunoutWarned } };
}

export function describeAlert(event: AlertEvent): string {
  switch (event.kind) {
    case 'window_level_crossed':
      return `codex-fleet: ${event.accountName} ${event.window} window at ${Math.round(event.usedPercent)}% used (crossed ${event.level}%)${event.resetsAt ? `, resets ${event.resetsAt}` : ''}`;
    case 'window_reset':
      return `codex-fleet: ${event.accountName} ${event.window} window reset (${Math.round(event.usedPercent)}% used now)`;
    case 'pool_runout_ahead':
      return `codex-fleet: the pool runs out in about ${event.hoursLeft} h (at ${new Date(event.runsOutAt).toISOString()}) at the current burn rate`;
    case 'plan_expiring':
      return `codex-fleet: ${event.accountName} plan ends ${event.endsAt.slice(0, 10)} (in ${event.daysLeft} day${event.daysLeft === 1 ? '' : 's'})`;
  }
}
