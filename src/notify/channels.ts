// Where alerts go, behind one small interface (webhook.ts, email.ts implement it), and the one delivery loop
// (claim, send with backoff, mark) so every channel dedupes and retries alike.
import { digestText, type OutgoingMessage } from './digest.ts';

/** A failed send; `retryable` says whether trying again can help (timeouts, 5xx, 429). */
export class ChannelError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

export interface AlertChannel {
  /** Stable identity used in delivery keys; never shown (a webhook URL can carry a secret path). */
  id: string;
  /** Safe to show in results and logs. */
  label: string;
  send(message: OutgoingMessage): Promise<void>;
}

/** Remembers which (channel, alert) pairs were delivered; the store persists it across restarts and instances. */
export interface DeliveryLog {
  wasDelivered(key: string): Promise<boolean>;
  markDelivered(key: string, at: number): Promise<void>;
  /** Atomically reserve a key before sending, so two instances never both send it; false when taken. */
  claim?(key: string, at: number): Promise<boolean>;
  /** Give a reservation back after a failed send. */
  release?(key: string): Promise<void>;
}

export class MemoryDeliveryLog implements DeliveryLog {
  private readonly keys = new Set<string>();
  async wasDelivered(key: string): Promise<boolean> {
    return this.keys.has(key);
  }
  async markDelivered(key: string): Promise<void> {
    this.keys.add(key);
  }
}

export interface DeliveryOptions {
  fetch?: typeof fetch;
  retries?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface DeliveryResult {
  key: string;
  url: string;
  delivered: boolean;
  skipped: boolean;
  attempts: number;
  error: string | null;
}

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends one message to every channel, at most once per (channel, alert): alerts another instance already
 * claimed or delivered are left out; a failed send gives its claims back so a later look retries it.
 */
export async function deliverMessage(
  message: OutgoingMessage,
  channels: readonly AlertChannel[],
  log: DeliveryLog,
  options: DeliveryOptions = {},
): Promise<DeliveryResult[]> {
  const retries = options.retries ?? 4;
  const base = options.baseDelayMs ?? 500;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const results: DeliveryResult[] = [];
  for (const channel of channels) {
    const mine: typeof message.alerts = [];
    const claimed: string[] = [];
    for (const alert of message.alerts) {
      const key = `${channel.id}#${alert.key}`;
      if (await log.wasDelivered(key)) continue;
      if (log.claim && !(await log.claim(key, now()))) continue;
      if (log.claim) claimed.push(key);
      mine.push(alert);
    }
    if (mine.length === 0) {
      results.push({ key: message.key, url: channel.label, delivered: false, skipped: true, attempts: 0, error: null });
      continue;
    }
    // Another instance took part of a digest: send the rest, worded for what is left.
    const toSend =
      mine.length === message.alerts.length
        ? message
        : { key: message.key, text: mine.length === 1 ? (mine[0]?.text ?? '') : digestText(mine), alerts: mine };
    let attempts = 0;
    let error: string | null = null;
    let delivered = false;
    while (attempts <= retries) {
      attempts += 1;
      try {
        await channel.send(toSend);
        delivered = true;
        error = null;
        break;
      } catch (e) {
        error = (e as Error).message;
        if (e instanceof ChannelError && !e.retryable) break;
      }
      if (attempts <= retries) await sleep(base * 2 ** (attempts - 1) * (0.5 + random() / 2));
    }
    for (const alert of mine) {
      const key = `${channel.id}#${alert.key}`;
      if (delivered) await log.markDelivered(key, now());
      else if (log.release && claimed.includes(key)) await log.release(key);
    }
    results.push({ key: message.key, url: channel.label, delivered, skipped: false, attempts, error });
  }
  return results;
}
