// Webhook channel: generic JSON, Slack-compatible ({text}) or Discord-compatible ({content}) bodies.
import { type AlertChannel, ChannelError, type DeliveryOptions } from './channels.ts';
import type { OutgoingMessage } from './digest.ts';

export const WEBHOOK_FORMATS = ['json', 'slack', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

/** Hosts only appear in errors and labels: a webhook URL can carry a secret path (Slack, Discord). */
export function redactUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

export function webhookBody(message: OutgoingMessage, format: WebhookFormat): unknown {
  if (format === 'slack') return { text: message.text };
  if (format === 'discord') return { content: message.text };
  const events = message.alerts.map((a) => a.event);
  return events.length === 1
    ? { source: 'codex-fleet', text: message.text, event: events[0], events }
    : { source: 'codex-fleet', text: message.text, events };
}

export function webhookChannel(target: WebhookTarget, options: DeliveryOptions = {}): AlertChannel {
  const doFetch = options.fetch ?? fetch;
  return {
    id: target.url,
    label: redactUrl(target.url),
    async send(message) {
      let response: Response;
      try {
        response = await doFetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'codex-fleet' },
          body: JSON.stringify(webhookBody(message, target.format)),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (e) {
        throw new ChannelError(`${(e as Error).name} sending to ${redactUrl(target.url)}`, true);
      }
      await response.body?.cancel();
      if (!response.ok) {
        const s = response.status;
        throw new ChannelError(`HTTP ${s} from ${redactUrl(target.url)}`, s === 408 || s === 429 || s >= 500);
      }
    },
  };
}
