// JSON API of request monitoring, as a Hono sub-app the server mounts under /api/monitor. Every
// answer is built from sanitized rows: raw failure bodies and API keys never leave the database.
// Writes (prices, retention) rely on the app's admin/CSRF guard, which runs before this sub-app.
import { Hono } from 'hono';
import { z } from 'zod';
import type { CollectorStats } from '../../monitor/collector.ts';
import { EXPORT_FORMATS, exportRequests } from '../../monitor/export.ts';
import { parseFilter } from '../../monitor/filter-query.ts';
import { DEFAULT_PRICES } from '../../monitor/prices.ts';
import type { MonitorService } from '../../monitor/service.ts';
import { loadRetention, resetPriceTable, savePriceTable, saveRetention } from '../../monitor/settings.ts';

export interface MonitorRouteDeps {
  monitor: MonitorService;
  /** The running collector's counters, when this process runs one. */
  collector?: () => CollectorStats | null;
}

const PAGE_PARAMS = ['limit', 'cursor'];
const listQuery = z.object({
  limit: z.coerce.number().int().min(1, 'limit must be at least 1').max(1000, 'limit must be at most 1000').default(50),
  cursor: z.string().max(200).optional(),
});
const exportQuery = z.object({
  format: z.enum(EXPORT_FORMATS, { message: 'format must be jsonl or csv' }).default('jsonl'),
  maxRows: z.coerce.number().int().min(1).max(10_000_000).optional(),
});

class HttpError extends Error {
  readonly status: 400 | 404;
  constructor(status: 400 | 404, message: string) {
    super(message);
    this.status = status;
  }
}

function filterOf(query: Record<string, string>, extra: readonly string[] = []) {
  const r = parseFilter(query, extra);
  if (!r.ok) throw new HttpError(400, r.error);
  return r.filter;
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

export function monitorRoutes(deps: MonitorRouteDeps): Hono {
  const { monitor } = deps;
  const q = monitor.queries;
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json({ error: error.message }, error.status);
    if (error instanceof RangeError) return c.json({ error: error.message }, 400);
    throw error;
  });

  app.get('/summary', async (c) => c.json(await q.summary(filterOf(c.req.query()))));
  app.get('/accounts', async (c) => c.json({ accounts: await q.accounts(filterOf(c.req.query())) }));
  app.get('/api-keys', async (c) => c.json({ apiKeys: await q.apiKeys(filterOf(c.req.query())) }));
  app.get('/models', async (c) => c.json({ models: await q.models(filterOf(c.req.query())) }));
  app.get('/statuses', async (c) => c.json({ statuses: await q.statuses(filterOf(c.req.query())) }));

  app.get('/requests', async (c) => {
    const query = c.req.query();
    const page = parse(listQuery, { limit: query.limit, cursor: query.cursor });
    return c.json(await q.list(filterOf(query, PAGE_PARAMS), page));
  });

  app.get('/requests/:id', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) throw new HttpError(400, 'request id must be a positive integer');
    const row = await q.request(id);
    if (!row) throw new HttpError(404, `no request ${id}`);
    return c.json(row);
  });

  app.get('/export', async (c) => {
    const query = c.req.query();
    const { format, maxRows } = parse(exportQuery, { format: query.format, maxRows: query.maxRows });
    const filter = filterOf(query, ['format', 'maxRows']);
    const rows = exportRequests(q, filter, format, { maxRows });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await rows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await rows.return(undefined);
      },
    });
    return new Response(body, {
      headers: {
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="codex-fleet-requests.${format}"`,
        'Cache-Control': 'no-store',
      },
    });
  });

  app.get('/prices', async (c) => c.json({ prices: await monitor.prices(), defaults: DEFAULT_PRICES }));
  app.put('/prices', async (c) => {
    const body = await c.req.json().catch(() => {
      throw new HttpError(400, 'send the price table as a JSON body');
    });
    const r = await savePriceTable(monitor.settings, body);
    if (!r.ok) throw new HttpError(400, r.error);
    monitor.invalidatePrices();
    return c.json({ prices: r.table });
  });
  app.delete('/prices', async (c) => {
    await resetPriceTable(monitor.settings);
    monitor.invalidatePrices();
    return c.json({ prices: DEFAULT_PRICES });
  });

  app.get('/retention', async (c) => c.json(await loadRetention(monitor.settings)));
  app.put('/retention', async (c) => {
    const body = await c.req.json().catch(() => {
      throw new HttpError(400, 'send retention settings as a JSON body');
    });
    try {
      return c.json(await saveRetention(monitor.settings, body));
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
  });

  app.get('/status', async (c) => {
    const quarantined = await monitor.ingest.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_quarantine');
    return c.json({
      collector: deps.collector?.() ?? null,
      ingest: { ...monitor.ingest.counters },
      quarantinedStored: Number(quarantined?.n ?? 0),
    });
  });

  return app;
}
