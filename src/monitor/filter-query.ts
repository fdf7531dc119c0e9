// Monitoring filters parsed from query strings with zod (clear errors). Kept apart from filters.ts so
// that the core's readers of monitoring data (the request/account join in a one-shot report) load no zod.
import { z } from 'zod';
import { CACHE_STATES } from './event.ts';
import type { MonitorFilter } from './filters.ts';

const time = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO date or epoch milliseconds' });
    return z.NEVER;
  }
  return n;
});
const str = z.string().trim().min(1).max(300);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const filterSchema = z
  .object({
    from: time.optional(),
    to: time.optional(),
    provider: str.optional(),
    model: str.optional(),
    project: str.optional(),
    account: str.optional(),
    apiKey: str.optional(),
    status: int(0, 999).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    failureType: str.optional(),
    minLatencyMs: int(0, 1e9).optional(),
    maxLatencyMs: int(0, 1e9).optional(),
    cacheState: z.enum(CACHE_STATES).optional(),
    requestId: str.optional(),
  })
  .strict();

export type FilterParse = { ok: true; filter: MonitorFilter } | { ok: false; error: string };

/** Parses filter parameters (query string values); unknown parameters are an error, not ignored. */
export function parseFilter(input: Record<string, unknown>, allowExtra: readonly string[] = []): FilterParse {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (allowExtra.includes(k) || v === undefined || v === '') continue;
    clean[k] = v;
  }
  const r = filterSchema.safeParse(clean);
  if (!r.success) {
    const i = r.error.issues[0];
    const where =
      i.path.join('.') ||
      (i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys?.join(', ') : '') ||
      'filter';
    return { ok: false, error: `filter ${where}: ${i.message}` };
  }
  const f = r.data as MonitorFilter;
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to)
    return { ok: false, error: 'filter: from must be before to' };
  if (f.minLatencyMs !== undefined && f.maxLatencyMs !== undefined && f.minLatencyMs > f.maxLatencyMs) {
    return { ok: false, error: 'filter: minLatencyMs must not exceed maxLatencyMs' };
  }
  return { ok: true, filter: f };
}
