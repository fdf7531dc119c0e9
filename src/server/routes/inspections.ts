// Local inspection: run now, history of runs, one run with its results and log.
import { Hono } from 'hono';
import { z } from 'zod';
import { FleetError } from '../service.ts';
import { type AppEnv, limitQuery, parseWith, type RouteDeps } from './context.ts';

export function inspectionRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/inspections', async (c) => {
    const { limit, offset } = parseWith(limitQuery, c.req.query(), 'query');
    const runs = await service.listInspections(limit + offset);
    return c.json({ runs: runs.slice(offset) });
  });
  app.post('/api/inspections', async (c) => c.json({ run: await service.runInspection(c.get('actor')) }, 201));
  app.get('/api/inspections/:id', async (c) => {
    const { id } = parseWith(z.object({ id: z.string().min(1).max(200) }), c.req.param(), 'run id');
    const run = await service.getInspection(id);
    if (!run) throw new FleetError('not_found', `no inspection run with id ${id}`);
    return c.json({ run });
  });
  return app;
}
