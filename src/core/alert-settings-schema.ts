// The schema of the notification settings a face may send (PUT /api/settings, the CLI): kept apart from
// alerting.ts so that commands which only read state (report, metrics) never load zod.
import { z } from 'zod';
import { ALERT_WINDOW_KINDS } from '../notify/alert-rules.ts';
import { WEBHOOK_FORMATS } from '../notify/webhook.ts';

const httpUrl = z
  .string()
  .url('a webhook url must be a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'a webhook url must be http(s)');
const levels = z
  .array(z.number().min(1, 'a warning level is 1-100 (% used)').max(100, 'a warning level is 1-100 (% used)'))
  .max(5, 'at most 5 warning levels per window');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'quiet hours are HH:MM (00:00-23:59)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Berlin');

/** What PUT /api/settings (and the CLI) may change under `notifications`; unknown fields are refused. */
export const notificationSettingsInput = z
  .object({
    webhooks: z.array(z.object({ url: httpUrl, format: z.enum(WEBHOOK_FORMATS) }).strict()).max(20),
    poolLowFraction: z.number().min(0, 'poolLowFraction is 0-1').max(1, 'poolLowFraction is 0-1'),
    rules: z
      .object({
        windowLevels: z
          .object(
            Object.fromEntries(ALERT_WINDOW_KINDS.map((k) => [k, levels])) as Record<
              (typeof ALERT_WINDOW_KINDS)[number],
              typeof levels
            >,
          )
          .partial()
          .strict(),
        includeAdditional: z.boolean(),
        poolRunoutHorizonHours: z.number().min(0).max(168, 'poolRunoutHorizonHours is 0-168'),
        planExpiryDays: z.number().int().min(0).max(90, 'planExpiryDays is 0-90'),
      })
      .partial()
      .strict(),
    schedule: z
      .object({
        quietHours: z.object({ start: hhmm, end: hhmm, timeZone }).strict().nullable(),
        digestMinutes: z.number().int().min(0).max(1440, 'digestMinutes is 0-1440'),
      })
      .partial()
      .strict(),
    email: z
      .object({
        host: z.string().min(1).max(255),
        port: z.number().int().min(1).max(65_535),
        secure: z.boolean(),
        user: z.string().min(1).max(255).nullable(),
        /** Write-only; omitted keeps the stored one, null clears it. */
        password: z.string().min(1).max(1024).nullable().optional(),
        from: z.string().email('email.from must be an address'),
        to: z.array(z.string().email('email.to holds addresses')).min(1).max(20),
      })
      .strict()
      .nullable(),
  })
  .partial()
  .strict();
export type NotificationSettingsInput = z.infer<typeof notificationSettingsInput>;
