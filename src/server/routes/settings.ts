// Inspection schedule, settings (thresholds, policy, notifications, probe concurrency) and CPA servers.
// Each is validated by its one definition: settings by core/settings.ts (inside setSettings, so the CLI
// gets the same answer), schedules and CPA servers by their own rooms' schemas.
import { Hono } from 'hono';
import { z } from 'zod';
import { cpaServerInputSchema } from '../../cpa/server-input.ts';
import { scheduleSchema } from '../../inspect/schedule.ts';
import { type AppEnv, jsonBody, parseWith, type RouteDeps } from './context.ts';

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
    return c.json({ settings: await service.setSettings(await jsonBody(c)) });
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
