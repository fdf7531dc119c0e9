// The health report (same JSON as `codex-fleet report --json`) and the forecast.
import { Hono } from 'hono';
import type { AppEnv, RouteDeps } from './context.ts';

export function reportRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/report', async (c) => c.json(await service.healthReport()));
  app.get('/api/forecast', async (c) => c.json(await service.forecast()));
  return app;
}
