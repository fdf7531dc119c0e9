// Pure: when pending alerts go out, and as how many messages. Quiet hours hold everything; the digest
// folds every alert of a window into one message, so 300 accounts crossing 80% at once send one message.
import { nodeCrypto } from '../runtime/crypto.ts';

export interface QuietHours {
  /** Local "HH:MM" in `timeZone`; start after end means the quiet time spans midnight. */
  start: string;
  end: string;
  timeZone: string;
}

export interface DeliverySchedule {
  quietHours: QuietHours | null;
  /** Collect alerts for this many minutes and send one message (0 = send each at once). */
  digestMinutes: number;
}

export const DEFAULT_DELIVERY_SCHEDULE: DeliverySchedule = { quietHours: null, digestMinutes: 0 };

export interface PendingAlert {
  key: string;
  text: string;
  /** When the alert was raised (ms). */
  at: number;
  event: unknown;
  /** Held through quiet hours: such alerts go out together as one digest when the quiet time ends. */
  held?: boolean;
}

export interface OutgoingMessage {
  /** Stable for the same set of alerts, so a retried digest is recognised. */
  key: string;
  text: string;
  /** The alerts this message carries: each is marked delivered once the message is. */
  alerts: PendingAlert[];
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(hhmm: string): number {
  const m = HH_MM.exec(hhmm);
  if (!m) throw new Error(`quiet hours: "${hhmm}" is not HH:MM (00:00-23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Minutes since local midnight in a time zone. */
function localMinutes(now: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(now))
    .reduce<Record<string, string>>((acc, p) => {
      acc[p.type] = p.value;
      return acc;
    }, {});
  return Number(parts.hour) * 60 + Number(parts.minute);
}

export function isQuiet(quiet: QuietHours | null, now: number): boolean {
  if (!quiet) return false;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  const t = localMinutes(now, quiet.timeZone);
  return start < end ? t >= start && t < end : t >= start || t < end;
}

function digestKey(alerts: readonly PendingAlert[]): string {
  const hash = nodeCrypto().createHash('sha256');
  for (const key of alerts.map((a) => a.key).sort()) hash.update(`${key}\n`);
  return `digest:${hash.digest('hex').slice(0, 16)}`;
}

export function digestText(alerts: readonly PendingAlert[]): string {
  const lines = alerts.map((a) => `• ${a.text.replace(/^codex-fleet: /, '')}`);
  return [`codex-fleet: ${alerts.length} alerts`, ...lines].join('\n');
}

/** Which pending alerts to send now, as which messages; the rest stay pending. */
export function planDelivery(
  pending: readonly PendingAlert[],
  schedule: DeliverySchedule,
  now: number,
): { send: OutgoingMessage[]; keep: PendingAlert[] } {
  if (pending.length === 0) return { send: [], keep: [] };
  if (isQuiet(schedule.quietHours, now)) return { send: [], keep: pending.map((a) => ({ ...a, held: true })) };
  if (schedule.digestMinutes <= 0) {
    const held = pending.filter((a) => a.held);
    const fresh = pending.filter((a) => !a.held);
    return { send: [...asMessages(held), ...fresh.map(single)], keep: [] };
  }
  const oldest = Math.min(...pending.map((a) => a.at));
  if (now - oldest < schedule.digestMinutes * 60_000) return { send: [], keep: [...pending] };
  return { send: asMessages(pending), keep: [] };
}

function single(alert: PendingAlert): OutgoingMessage {
  return { key: alert.key, text: alert.text, alerts: [alert] };
}

/** One message for the lot: the alert itself when it is alone, else a digest listing them all. */
function asMessages(alerts: readonly PendingAlert[]): OutgoingMessage[] {
  if (alerts.length === 0) return [];
  if (alerts.length === 1) return [single(alerts[0] as PendingAlert)];
  return [{ key: digestKey(alerts), text: digestText(alerts), alerts: [...alerts] }];
}
