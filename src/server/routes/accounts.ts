// Accounts, pool summary and refreshes; plus codex-quota's GET /api/results and GET /refresh.
import { Hono } from 'hono';
import { z } from 'zod';
import { FleetError } from '../service.ts';
import { type AppEnv, parseWith, type RouteDeps } from './context.ts';

const idParam = z.object({ id: z.string().min(1).max(200) });
const refreshQuery = z.object({ wait: z.enum(['true', 'false', '1', '0']).optional() });

export function accountRoutes(deps: RouteDeps): Hono<AppEnv> {
  const { service, gate, hub, clock } = deps;
  const app = new Hono<AppEnv>();

  // The core builds and serializes the list once per change; a client holding it gets 304.
  app.get('/api/accounts', async (c) => {
    const { json, etag } = (await service.accountList()).body;
    c.header('ETag', etag);
    if (ifNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return c.body(json, 200, { 'Content-Type': 'application/json' });
  });
  app.get('/api/pool', async (c) => c.json({ pool: await service.pool(), refreshing: gate.running }));
  app.get('/api/accounts/:id', async (c) => {
    const { id } = parseWith(idParam, c.req.param(), 'account id');
    const account = await service.getAccount(id);
    if (!account) throw new FleetError('not_found', `no account with id ${id}`);
    return c.json({ account });
  });

  // Answers at once (202) unless ?wait=true: a slow account never holds the page.
  app.post('/api/refresh', async (c) => {
    const { wait } = parseWith(refreshQuery, c.req.query(), 'query');
    const ticket = gate.refreshAll();
    if (ticket.status === 'started') hub.broadcast({ type: 'refresh', at: new Date(clock()).toISOString() });
    if (wait === 'true' || wait === '1') {
      const outcome = await ticket.done;
      return c.json({ status: ticket.status, startedAt: ticket.startedAt, outcome });
    }
    return c.json({ status: ticket.status, startedAt: ticket.startedAt }, 202);
  });
  app.post('/api/accounts/:id/refresh', async (c) => {
    const { id } = parseWith(idParam, c.req.param(), 'account id');
    return c.json({ account: await gate.refreshAccount(id) });
  });
  for (const verb of ['enable', 'disable'] as const) {
    app.post(`/api/accounts/:id/${verb}`, async (c) => {
      const { id } = parseWith(idParam, c.req.param(), 'account id');
      return c.json({ account: await service.setAccountDisabled(id, verb === 'disable', c.get('actor')) });
    });
  }

  // codex-quota aliases.
  app.get('/api/results', async (c) => {
    const accounts = await service.listAccounts();
    return c.json({ generatedAt: new Date(clock()).toISOString(), results: accounts });
  });
  app.get('/refresh', async (c) => {
    await gate.refreshAll().done;
    return c.redirect('/', 303);
  });
  return app;
}

/** RFC 9110 §13.1.2: a list of entity tags (weak ones compare equal too), or `*`. */
function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
