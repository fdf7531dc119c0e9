// Inspection schedule and settings (CPA servers, thresholds, policy, webhook).
import { Hono } from 'hono';
import { z } from 'zod';
import { type AppEnv, jsonBody, parseWith, type RouteDeps } from './context.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'daily times are HH:MM, 00:00 to 23:59');
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'timeZone must be an IANA time zone such as UTC or Europe/Berlin' },
);

export const scheduleSchema = z
  .object({
    mode: z.enum(['off', 'interval', 'daily']),
    intervalMinutes: z.number().int().min(5, 'intervalMinutes must be at least 5').max(10_080).nullable(),
    dailyTimes: z.array(hhmm).max(24, 'at most 24 daily times'),
    timeZone,
  })
  .strict()
  .refine((s) => s.mode !== 'interval' || s.intervalMinutes != null, {
    message: 'mode interval needs intervalMinutes',
  })
  .refine((s) => s.mode !== 'daily' || s.dailyTimes.length > 0, {
    message: 'mode daily needs at least one daily time',
  });

const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');
const percent = z.number().min(0, 'thresholds are 0-100').max(100, 'thresholds are 0-100');

export const settingsSchema = z
  .object({
    cpaServers: z
      .array(
        z
          .object({
            name: z.string().min(1, 'a CPA server needs a name').max(64),
            baseUrl: httpUrl,
            // Omitted: keep the stored key. Present: replace it (on purpose).
            managementKey: z
              .string()
              .min(1, 'managementKey cannot be empty; omit it to keep the stored key')
              .optional(),
          })
          .strict(),
      )
      .max(50)
      .optional(),
    thresholds: z.object({ '5h': percent, weekly: percent, monthly: percent }).partial().strict().optional(),
    policy: z
      .object({ autoDisable: z.boolean(), autoEnable: z.boolean(), autoDelete: z.boolean() })
      .partial()
      .strict()
      .optional(),
    webhookUrl: httpUrl.nullable().optional(),
    probeConcurrency: z
      .number()
      .int()
      .min(1, 'probeConcurrency is 1-20')
      .max(20, 'probeConcurrency is 1-20')
      .optional(),
  })
  .strict();

export function settingsRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/schedule', async (c) => c.json({ schedule: await service.getSchedule() }));
  app.put('/api/schedule', async (c) => {
    const input = parseWith(scheduleSchema, await jsonBody(c), 'schedule');
    return c.json({ schedule: await service.setSchedule(input) });
  });
  app.get('/api/settings', async (c) => c.json({ settings: await service.getSettings() }));
  app.put('/api/settings', async (c) => {
    const input = parseWith(settingsSchema, await jsonBody(c), 'settings');
    return c.json({ settings: await service.setSettings(input) });
  });
  return app;
}
