// History series for the dashboard's charts: quota per account, the pool, and monitoring over time.
// Each answer is downsampled to the range (at most maxPoints buckets), so 30 days stay small.
import { Hono } from 'hono';
import { z } from 'zod';
import { DEFAULT_MAX_POINTS, pickRange, SERIES_RANGES, type SeriesRange } from '../../inspect/history-series.ts';
import { parseFilter } from '../../monitor/filter-query.ts';
import { type AppEnv, BadRequest, parseWith, type RouteDeps } from './context.ts';

const RANGE_PARAMS = ['range', 'maxPoints'];
const POOL_POINTS = 60;
const rangeQuery = z.object({
  range: z
    .enum(Object.keys(SERIES_RANGES) as [keyof typeof SERIES_RANGES], {
      message: `range must be one of ${Object.keys(SERIES_RANGES).join(', ')}`,
    })
    .optional(),
  maxPoints: z.coerce
    .number()
    .int()
    .min(10, 'maxPoints must be at least 10')
    .max(2000, 'maxPoints must be at most 2000')
    .default(DEFAULT_MAX_POINTS),
});
const timeQuery = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
});

function toMs(v: string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new BadRequest(`${what} must be an ISO date or epoch milliseconds`);
  return n;
}

/** `range=7d` (default `fallback`) back from now, or explicit `from`/`to`; aligned to the chosen step. */
function rangeOf(
  query: Record<string, string>,
  now: number,
  fallback: keyof typeof SERIES_RANGES,
  defaultPoints?: number,
): SeriesRange {
  const q = parseWith(rangeQuery, { range: query.range, maxPoints: query.maxPoints ?? defaultPoints }, 'range');
  const t = parseWith(timeQuery, { from: query.from, to: query.to }, 'range');
  const to = toMs(t.to, 'to') ?? now;
  const from = toMs(t.from, 'from') ?? to - SERIES_RANGES[q.range ?? fallback];
  if (from >= to) throw new BadRequest('from must be before to');
  return pickRange(from, to, q.maxPoints);
}

export function seriesRoutes(deps: RouteDeps): Hono<AppEnv> {
  const { service, clock } = deps;
  const app = new Hono<AppEnv>();
  const unsupported = () => new BadRequest('this server has no history series');

  app.get('/api/series/pool', async (c) => {
    if (!service.poolSeries) throw unsupported();
    // The pool reads accounts × buckets rows: fewer buckets by default keep 1,000 accounts quick.
    return c.json(await service.poolSeries(rangeOf(c.req.query(), clock(), '7d', POOL_POINTS)));
  });

  app.get('/api/series/accounts/:id', async (c) => {
    if (!service.accountSeries) throw unsupported();
    const id = c.req.param('id');
    const series = await service.accountSeries(id, rangeOf(c.req.query(), clock(), '7d'));
    if (!series) return c.json({ error: `no account ${id}` }, 404);
    return c.json(series);
  });

  // Takes the Monitoring page's filters; its from/to (when set) are the range.
  app.get('/api/series/monitor', async (c) => {
    if (!service.monitorSeries) throw unsupported();
    const query = c.req.query();
    const parsed = parseFilter(query, RANGE_PARAMS);
    if (!parsed.ok) throw new BadRequest(parsed.error);
    const range = rangeOf(query, clock(), '24h');
    const { from: _f, to: _t, ...filter } = parsed.filter;
    const series = await service.monitorSeries(filter, range);
    if (!series) return c.json({ error: 'request monitoring is not enabled on this server' }, 404);
    return c.json(series);
  });

  return app;
}
