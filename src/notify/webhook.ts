// Delivers notification events to webhooks: generic JSON, Slack-compatible ({text}) or Discord-compatible
// ({content}). Retries with exponential backoff + jitter; a delivery log makes each event one message.
import { describeEvent, type NotificationEvent } from './changes.ts';

export const WEBHOOK_FORMATS = ['json', 'slack', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

/** Remembers which (target, event) pairs were delivered; the store persists it across restarts. */
export interface DeliveryLog {
  wasDelivered(key: string): Promise<boolean>;
  markDelivered(key: string, at: number): Promise<void>;
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

export function webhookBody(event: NotificationEvent, format: WebhookFormat): unknown {
  const text = describeEvent(event);
  if (format === 'slack') return { text };
  if (format === 'discord') return { content: text };
  return { source: 'codex-fleet', text, event };
}

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Hosts only appear in errors: a webhook URL can carry a secret path (Slack, Discord). */
function redactUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

export async function deliver(
  event: NotificationEvent,
  targets: readonly WebhookTarget[],
  log: DeliveryLog,
  options: DeliveryOptions = {},
): Promise<DeliveryResult[]> {
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 4;
  const base = options.baseDelayMs ?? 500;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const results: DeliveryResult[] = [];
  for (const target of targets) {
    const key = `${target.url}#${event.key}`;
    if (await log.wasDelivered(key)) {
      results.push({
        key: event.key,
        url: redactUrl(target.url),
        delivered: false,
        skipped: true,
        attempts: 0,
        error: null,
      });
      continue;
    }
    let attempts = 0;
    let error: string | null = null;
    let delivered = false;
    while (attempts <= retries && !delivered) {
      attempts += 1;
      try {
        const response = await doFetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'codex-fleet' },
          body: JSON.stringify(webhookBody(event, target.format)),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await response.body?.cancel();
        if (response.ok) {
          delivered = true;
          error = null;
          break;
        }
        error = `HTTP ${response.status} from ${redactUrl(target.url)}`;
        if (!isRetryable(response.status)) break;
      } catch (e) {
        error = `${(e as Error).name} sending to ${redactUrl(target.url)}`;
      }
      if (attempts <= retries) await sleep(base * 2 ** (attempts - 1) * (0.5 + random() / 2));
    }
    if (delivered) await log.markDelivered(key, now());
    results.push({ key: event.key, url: redactUrl(target.url), delivered, skipped: false, attempts, error });
  }
  return results;
}
