// Inspection schedule, settings (thresholds, policy, notifications, probe concurrency) and CPA servers.
// Schedules and CPA servers are validated by their own rooms' schemas: one definition of what is valid.
import { Hono } from 'hono';
import { z } from 'zod';
import { notificationSettingsInput } from '../../core/alert-settings-schema.ts';
import { cpaServerInputSchema } from '../../cpa/servers.ts';
import { THRESHOLD_WINDOWS } from '../../domain/inspection.ts';
import { scheduleSchema } from '../../inspect/schedule.ts';
import type { SettingsInput } from '../service.ts';
import { type AppEnv, jsonBody, parseWith, type RouteDeps } from './context.ts';

const windowThreshold = z
  .object({
    enabled: z.boolean(),
    disableAtUsedPercent: z.number().min(1, 'disableAtUsedPercent is 1-100').max(100, 'disableAtUsedPercent is 1-100'),
  })
  .partial()
  .strict();

export const settingsSchema = z
  .object({
    thresholds: z
      .object(Object.fromEntries(THRESHOLD_WINDOWS.map((w) => [w, windowThreshold.optional()])))
      .strict()
      .optional(),
    policy: z
      .object({
        autoDisable: z.boolean(),
        autoEnable: z.boolean(),
        autoDelete: z.boolean(),
        deleteConfirmMinutes: z.number().int().min(0).max(43_200, 'deleteConfirmMinutes is at most 30 days'),
      })
      .partial()
      .strict()
      .optional(),
    notifications: notificationSettingsInput.optional(),
    probeConcurrency: z
      .number()
      .int()
      .min(1, 'probeConcurrency is 1-20')
      .max(20, 'probeConcurrency is 1-20')
      .optional(),
  })
  .strict();

const cpaName = z.object({ name: z.string().min(1).max(64) });

export function settingsRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/schedule', async (c) => c.json({ schedule: await service.getSchedule() }));
  app.put('/api/schedule', async (c) => {
    const schedule = parseWith(scheduleSchema, await jsonBody(c), 'schedule');
    return c.json({ schedule: await service.setSchedule(schedule) });
  });

  app.get('/api/settings', async (c) => c.json({ settings: await service.getSettings() }));
  app.put('/api/settings', async (c) => {
    const input = parseWith(settingsSchema, await jsonBody(c), 'settings') as SettingsInput;
    return c.json({ settings: await service.setSettings(input) });
  });

  app.get('/api/cpa-servers', async (c) => c.json({ servers: await service.listCpaServers() }));
  // PUT adds or edits; a managementKey left out keeps the stored key (replaced only on purpose).
  app.put('/api/cpa-servers/:name', async (c) => {
    const { name } = parseWith(cpaName, c.req.param(), 'CPA server name');
    const body = await jsonBody(c);
    const input = parseWith(cpaServerInputSchema, { ...(body as object), name }, 'CPA server');
    return c.json({ server: await service.saveCpaServer(input) });
  });
  app.delete('/api/cpa-servers/:name', async (c) => {
    const { name } = parseWith(cpaName, c.req.param(), 'CPA server name');
    await service.removeCpaServer(name);
    return c.json({ deleted: name });
  });
  return app;
}
