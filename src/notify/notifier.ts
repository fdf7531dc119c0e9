// Ties change and alert detection to delivery: call `observe()` after every sweep (and `flush()` on a timer
// for digests and quiet hours). What was announced and what still waits is kept by a small persistence
// interface, so restarts neither re-announce nor lose an alert.
import type { AccountState } from '../domain/quota.ts';
import {
  type AlertAccountView,
  type AlertEvent,
  type AlertMemory,
  type AlertRuleSettings,
  DEFAULT_ALERT_RULES,
  describeAlert,
  detectAlerts,
  EMPTY_ALERT_MEMORY,
} from './alert-rules.ts';
import { type AccountStateView, describeEvent, detectChanges, type NotificationEvent } from './changes.ts';
import {
  type AlertChannel,
  type DeliveryLog,
  type DeliveryOptions,
  type DeliveryResult,
  deliverMessage,
} from './channels.ts';
import { DEFAULT_DELIVERY_SCHEDULE, type DeliverySchedule, type PendingAlert, planDelivery } from './digest.ts';
import { type WebhookTarget, webhookChannel } from './webhook.ts';

export interface NotifierMemory {
  states: Record<string, AccountState>;
  poolWasLow: boolean;
  alerts?: AlertMemory;
  /** Alerts not yet sent: held by quiet hours or a digest window, or whose send failed. */
  pending?: PendingAlert[];
}

export interface NotifierPersistence {
  load(): Promise<NotifierMemory | null>;
  save(memory: NotifierMemory): Promise<void>;
}

export interface NotifierSettings {
  targets: WebhookTarget[];
  /** Channels beyond webhooks (email). */
  channels?: AlertChannel[];
  /** Fraction of usable accounts (0..1) under which the pool counts as low. Default 0.2. */
  poolLowFraction?: number;
  rules?: AlertRuleSettings;
  schedule?: DeliverySchedule;
}

/** One account as the notifier sees it: its state, and for quota alerts its windows and plan end. */
export type NotifierAccountView = AccountStateView & Partial<Pick<AlertAccountView, 'windows' | 'planEndsAt'>>;

export type FleetNotification = NotificationEvent | AlertEvent;

/** A failing channel must not make pending alerts grow without bound: the newest this many are kept. */
const MAX_PENDING = 1000;

export class Notifier {
  private memory: NotifierMemory | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly settings: () => NotifierSettings;
  private readonly persistence: NotifierPersistence;
  private readonly log: DeliveryLog;
  private readonly options: DeliveryOptions;

  constructor(
    settings: () => NotifierSettings,
    persistence: NotifierPersistence,
    log: DeliveryLog,
    options: DeliveryOptions = {},
  ) {
    this.settings = settings;
    this.persistence = persistence;
    this.log = log;
    this.options = options;
  }

  /** Serialized, so two overlapping sweeps cannot both announce the same change. */
  observe(
    current: readonly NotifierAccountView[],
    now: number,
    pool: { runsOutAt?: number | null } = {},
  ): Promise<{ events: FleetNotification[]; results: DeliveryResult[] }> {
    return this.serialized(() => this.observeNow(current, now, pool.runsOutAt ?? null));
  }

  /** Sends events found outside a sweep (issue 20: requests_disagree), through the same plan and channels. */
  announce(events: readonly NotificationEvent[], now: number): Promise<DeliveryResult[]> {
    return this.serialized(async () =>
      this.send(
        await this.loaded(),
        events.map((e) => ({ key: e.key, text: describeEvent(e), at: now, event: e })),
        now,
      ),
    );
  }

  /** Sends what quiet hours or a digest window held back, once their time has come. */
  flush(now: number): Promise<{ events: FleetNotification[]; results: DeliveryResult[] }> {
    return this.serialized(async () => {
      const memory = await this.loaded();
      const results = await this.send(memory, [], now);
      return { events: [], results };
    });
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loaded(): Promise<NotifierMemory> {
    this.memory ??= (await this.persistence.load()) ?? { states: {}, poolWasLow: false };
    return this.memory;
  }

  private async observeNow(current: readonly NotifierAccountView[], now: number, poolRunsOutAt: number | null) {
    const memory = await this.loaded();
    const settings = this.settings();
    const changes = detectChanges({
      previous: new Map(Object.entries(memory.states)),
      current,
      poolWasLow: memory.poolWasLow,
      poolLowFraction: settings.poolLowFraction ?? 0.2,
      now,
    });
    const alerts = detectAlerts({
      accounts: current.map((a) => ({
        id: a.id,
        name: a.name,
        windows: a.windows ?? [],
        planEndsAt: a.planEndsAt ?? null,
      })),
      poolRunsOutAt,
      memory: memory.alerts ?? EMPTY_ALERT_MEMORY,
      settings: settings.rules ?? DEFAULT_ALERT_RULES,
      now,
    });
    memory.states = Object.fromEntries(changes.next);
    memory.poolWasLow = changes.poolIsLow;
    memory.alerts = alerts.memory;
    const fresh: PendingAlert[] = [
      ...changes.events.map((e) => ({ key: e.key, text: describeEvent(e), at: now, event: e })),
      ...alerts.events.map((e) => ({ key: e.key, text: describeAlert(e), at: now, event: e })),
    ];
    const results = await this.send(memory, fresh, now);
    return { events: [...changes.events, ...alerts.events], results };
  }

  /** Plans and sends; alerts whose send failed stay pending for the next look. Saves the memory. */
  private async send(memory: NotifierMemory, fresh: PendingAlert[], now: number): Promise<DeliveryResult[]> {
    const settings = this.settings();
    const channels = [...settings.targets.map((t) => webhookChannel(t, this.options)), ...(settings.channels ?? [])];
    const known = new Set((memory.pending ?? []).map((a) => a.key));
    const pending = [...(memory.pending ?? []), ...fresh.filter((a) => !known.has(a.key))];
    const results: DeliveryResult[] = [];
    let keep: PendingAlert[] = [];
    if (channels.length === 0) {
      keep = [];
    } else {
      const plan = planDelivery(pending, settings.schedule ?? DEFAULT_DELIVERY_SCHEDULE, now);
      keep = plan.keep;
      for (const message of plan.send) {
        const sent = await deliverMessage(message, channels, this.log, { ...this.options, now: () => now });
        results.push(...sent);
        if (sent.some((r) => !r.delivered && !r.skipped))
          keep.push(...message.alerts.map((a) => ({ ...a, held: false })));
      }
    }
    memory.pending = keep.slice(-MAX_PENDING);
    await this.persistence.save(memory);
    return results;
  }
}
