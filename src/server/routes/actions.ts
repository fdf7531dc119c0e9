// The action queue (approve / reject) and the audit log.
import { Hono } from 'hono';
import { z } from 'zod';
import { ACTION_STATUSES } from '../../actions/actions-repo.ts';
import { type AppEnv, limitQuery, parseWith, type RouteDeps } from './context.ts';

const listQuery = z.object({ status: z.enum(ACTION_STATUSES).optional() });
const idParam = z.object({ id: z.string().min(1).max(200) });

export function actionRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/actions', async (c) => {
    const { status } = parseWith(listQuery, c.req.query(), 'query');
    return c.json({ actions: await service.listActions(status) });
  });
  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/api/actions/:id/${decision}`, async (c) => {
      const { id } = parseWith(idParam, c.req.param(), 'action id');
      return c.json({ action: await service.decideAction(id, decision, c.get('actor')) });
    });
  }
  app.get('/api/audit', async (c) => {
    const { limit } = parseWith(limitQuery, c.req.query(), 'query');
    return c.json({ entries: await service.listAudit(limit) });
  });
  return app;
}
