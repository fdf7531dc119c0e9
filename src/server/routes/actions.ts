// The action queue (approve / reject) and the audit log.
import { Hono } from 'hono';
import { z } from 'zod';
import { ACTION_STATUSES } from '../../actions/actions-repo.ts';
import { type AppEnv, limitQuery, parseWith, type RouteDeps, wholeListParams } from './context.ts';

const listQuery = z.object({ ...wholeListParams, status: z.enum(ACTION_STATUSES).optional() });
const idParam = z.object({ id: z.string().min(1).max(200) });

export function actionRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/actions', async (c) => {
    const { status, limit, offset } = parseWith(listQuery, c.req.query(), 'query');
    const actions = await service.listActions(status);
    return c.json({ actions: actions.slice(offset, offset + limit), total: actions.length });
  });
  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/api/actions/:id/${decision}`, async (c) => {
      const { id } = parseWith(idParam, c.req.param(), 'action id');
      return c.json({ action: await service.decideAction(id, decision, c.get('actor')) });
    });
  }
  app.get('/api/audit', async (c) => {
    const { limit, offset } = parseWith(limitQuery, c.req.query(), 'query');
    const entries = await service.listAudit(limit + offset);
    return c.json({ entries: entries.slice(offset) });
  });
  return app;
}
