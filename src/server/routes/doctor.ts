// `codex-fleet doctor` for the dashboard: read-only, but it contacts every CPA server and runs the
// Codex CLI, so it runs only when asked (the service joins a run in progress).
import { Hono } from 'hono';
import type { AppEnv, RouteDeps } from './context.ts';

export function doctorRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/doctor', async (c) => c.json(await service.doctor()));
  return app;
}
