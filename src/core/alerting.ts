// Alerts in the core: the one typed definition of notification settings, the plan terms read from the
// subscriptions endpoint, and what the notifier is shown after a sweep. The rules stay pure in notify/.
import { lapsesAt, type PlanTerm } from '../domain/plan.ts';
import type { QuotaWindow } from '../domain/quota.ts';
import { type AlertRuleSettings, DEFAULT_ALERT_RULES } from '../notify/alert-rules.ts';
import type { AlertChannel, DeliveryLog } from '../notify/channels.ts';
import { DEFAULT_DELIVERY_SCHEDULE, type DeliverySchedule } from '../notify/digest.ts';
import { type EmailSettings, emailChannel } from '../notify/email.ts';
import type { NotifierAccountView } from '../notify/notifier.ts';
import type { WebhookTarget } from '../notify/webhook.ts';
import type { NotificationSettingsInput } from './alert-settings-schema.ts';

export type { NotificationSettingsInput };

import type { SettingsRepo } from '../store/settings-repo.ts';
import type { HeaderTarget } from '../upstream/headers.ts';
import type { FetchLike } from '../upstream/http.ts';
import { fetchPlanTerm } from '../upstream/subscription.ts';

export const NOTIFY_SETTING = 'notify.settings';

/** Stored notification settings. The SMTP password is write-only: responses only say whether one is set. */
export interface NotificationSettings {
  webhooks: WebhookTarget[];
  poolLowFraction: number;
  rules: AlertRuleSettings;
  schedule: DeliverySchedule;
  email: (EmailSettings & { password: string | null }) | null;
}

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  webhooks: [],
  poolLowFraction: 0.2,
  rules: DEFAULT_ALERT_RULES,
  schedule: DEFAULT_DELIVERY_SCHEDULE,
  email: null,
};

/** Merges an input into the stored settings (a partial update); keeps the stored SMTP password unless replaced. */
export function mergeNotificationSettings(
  stored: NotificationSettings,
  input: NotificationSettingsInput,
): NotificationSettings {
  const rules = input.rules
    ? {
        ...stored.rules,
        ...input.rules,
        windowLevels: { ...stored.rules.windowLevels, ...(input.rules.windowLevels ?? {}) },
      }
    : stored.rules;
  const schedule = input.schedule ? { ...stored.schedule, ...input.schedule } : stored.schedule;
  let email = stored.email;
  if (input.email === null) email = null;
  else if (input.email) {
    const { password, ...rest } = input.email;
    email = { ...rest, password: password === undefined ? (stored.email?.password ?? null) : password };
  }
  return {
    webhooks: input.webhooks ?? stored.webhooks,
    poolLowFraction: input.poolLowFraction ?? stored.poolLowFraction,
    rules,
    schedule,
    email,
  };
}

/** Stored settings of any older shape, completed with defaults. */
export function normalizeNotificationSettings(stored: Partial<NotificationSettings> | undefined): NotificationSettings {
  return mergeNotificationSettings(DEFAULT_NOTIFICATION_SETTINGS, (stored ?? {}) as NotificationSettingsInput);
}

/** What a response may show: never the SMTP password. */
export function publicNotificationSettings(settings: NotificationSettings) {
  const { email, ...rest } = settings;
  if (!email) return { ...rest, email: null };
  const { password, ...shown } = email;
  return { ...rest, email: { ...shown, passwordSet: password != null } };
}

/** The channels beyond webhooks; the env password (CODEX_FLEET_SMTP_PASSWORD) wins over a stored one. */
export function extraChannels(settings: NotificationSettings, env: NodeJS.ProcessEnv = process.env): AlertChannel[] {
  if (!settings.email) return [];
  const { password, ...email } = settings.email;
  return [emailChannel(email, env.CODEX_FLEET_SMTP_PASSWORD || password)];
}

/** The delivery log in the store: a claim before each send, so instances on one database never both send. */
export function storeDeliveryLog(settings: SettingsRepo): DeliveryLog {
  const key = (k: string) => `notify.sent.${k}`;
  return {
    wasDelivered: async (k) => (await settings.get(key(k))) != null,
    markDelivered: async (k, at) => settings.set(key(k), at),
    claim: (k, at) => settings.setIfAbsent(key(k), { claimedAt: at }),
    release: async (k) => {
      await settings.delete(key(k));
    },
  };
}

/** Plan terms change rarely: each account's is read again after this long. */
export const PLAN_TERM_MAX_AGE_MS = 12 * 3_600_000;
export const PLAN_TERM_PREFIX = 'plan.term.';

export class PlanTerms {
  readonly #settings: SettingsRepo;
  constructor(settings: SettingsRepo) {
    this.#settings = settings;
  }

  async all(): Promise<Map<string, PlanTerm>> {
    const rows = await this.#settings.all(PLAN_TERM_PREFIX);
    return new Map(Object.entries(rows).map(([k, v]) => [k.slice(PLAN_TERM_PREFIX.length), v as PlanTerm]));
  }

  /**
   * Reads the term of every account whose stored one is missing or older than PLAN_TERM_MAX_AGE_MS, one at a
   * time (a background chore, never a burst). An `unknown` answer keeps the last known term.
   */
  async refresh<A extends { id: string }>(
    accounts: readonly A[],
    targetOf: (account: A) => Promise<{ target: HeaderTarget; fetch?: FetchLike } | null>,
    options: { baseUrl: string; timeoutMs: number; now: () => number; force?: boolean; signal?: AbortSignal },
  ): Promise<number> {
    const known = await this.all();
    let read = 0;
    for (const account of accounts) {
      if (options.signal?.aborted) break;
      const last = known.get(account.id);
      if (!options.force && last && options.now() - Date.parse(last.checkedAt) < PLAN_TERM_MAX_AGE_MS) continue;
      const via = await targetOf(account);
      if (!via) continue;
      const term = await fetchPlanTerm(via.target, {
        baseUrl: options.baseUrl,
        timeoutMs: options.timeoutMs,
        fetch: via.fetch,
        now: options.now,
      });
      read += 1;
      // An unknown answer (a network error, a 5xx) keeps what was known, with the note of why it was not read.
      const keep = term.status === 'unknown' && last && last.status !== 'unknown' ? { ...last, note: term.note } : term;
      await this.#settings.set(`${PLAN_TERM_PREFIX}${account.id}`, keep);
    }
    return read;
  }
}

/** What the notifier is shown of each account after a sweep. */
export function notifierView(
  account: {
    id: string;
    name: string;
    state: NotifierAccountView['state'] | null;
    reason: string | null;
    lastCheckedAt: string | null;
    windows: readonly QuotaWindow[];
  },
  term: PlanTerm | undefined,
  now: number,
): NotifierAccountView | null {
  if (account.state == null) return null;
  return {
    id: account.id,
    name: account.name,
    state: account.state,
    reason: account.reason ?? '',
    observedAt: Date.parse(account.lastCheckedAt ?? '') || now,
    windows: account.windows.map((w) => ({
      kind: w.kind,
      scope: w.scope,
      limitName: w.limitName,
      usedPercent: w.usedPercent,
      resetsAt: w.resetsAt,
    })),
    planEndsAt: lapsesAt(term ?? null),
  };
}
