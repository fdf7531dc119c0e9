// Ties change detection to delivery: call `observe()` after every sweep. State between sweeps (last known
// states, whether the pool was low) is kept by a small persistence interface so restarts do not re-announce.
import type { AccountState } from '../domain/quota.ts';
import { type AccountStateView, detectChanges, type NotificationEvent } from './changes.ts';
import { type DeliveryLog, type DeliveryOptions, type DeliveryResult, deliver, type WebhookTarget } from './webhook.ts';

export interface NotifierMemory {
  states: Record<string, AccountState>;
  poolWasLow: boolean;
}

export interface NotifierPersistence {
  load(): Promise<NotifierMemory | null>;
  save(memory: NotifierMemory): Promise<void>;
}

export interface NotifierSettings {
  targets: WebhookTarget[];
  /** Fraction of usable accounts (0..1) under which the pool counts as low. Default 0.2. */
  poolLowFraction?: number;
}

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
    current: readonly AccountStateView[],
    now: number,
  ): Promise<{ events: NotificationEvent[]; results: DeliveryResult[] }> {
    const run = this.queue.then(() => this.observeNow(current, now));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async observeNow(current: readonly AccountStateView[], now: number) {
    this.memory ??= (await this.persistence.load()) ?? { states: {}, poolWasLow: false };
    const settings = this.settings();
    const { events, next, poolIsLow } = detectChanges({
      previous: new Map(Object.entries(this.memory.states)),
      current,
      poolWasLow: this.memory.poolWasLow,
      poolLowFraction: settings.poolLowFraction ?? 0.2,
      now,
    });
    const results: DeliveryResult[] = [];
    for (const event of events) results.push(...(await deliver(event, settings.targets, this.log, this.options)));
    this.memory = { states: Object.fromEntries(next), poolWasLow: poolIsLow };
    await this.persistence.save(this.memory);
    return { events, results };
  }
}
