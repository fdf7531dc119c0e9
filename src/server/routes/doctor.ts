// `codex-fleet doctor` for the dashboard: read-only, but it contacts every CPA server and runs the
// Codex CLI, so it runs only when asked (the service joins a run in progress). POST, so that it needs
// the CSRF token and no <img> on another site can start it.
import { Hono } from 'hono';
import type { AppEnv, RouteDeps } from './context.ts';

export function doctorRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/api/doctor', async (c) => c.json(await service.doctor()));
  app.get('/api/doctor', (c) => {
    c.header('Allow', 'POST');
    return c.json({ error: 'the doctor contacts every CPA server: use POST /api/doctor' }, 405);
  });
  return app;
}
