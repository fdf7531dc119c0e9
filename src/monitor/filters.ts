// Filters shared by every view and the export: parsed from query strings with zod (clear errors),
// then resolved to dictionary ids. A value never seen makes the filter match nothing.
import { z } from 'zod';
import type { Dictionary } from './dictionary.ts';
import { CACHE_STATES, type CacheState } from './event.ts';
import { SLOW_LATENCY_MS } from './pairs.ts';
import { dedupeKeyOf } from './record.ts';

export interface MonitorFilter {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  provider?: string;
  model?: string;
  project?: string;
  /** CPA auth_index. */
  account?: string;
  /** API key hash, or its masked label as shown in the views. */
  apiKey?: string;
  status?: number;
  outcome?: 'success' | 'failure';
  failureType?: string;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  cacheState?: CacheState;
  requestId?: string;
}

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

/** A filter turned into SQL over mon_event, plus what it means for the rollups. */
export interface ResolvedFilter {
  filter: MonitorFilter;
  /** True when some value was never seen: the answer is empty without asking the database. */
  empty: boolean;
  ids: {
    provider?: number;
    model?: number;
    project?: number;
    account?: number;
    apiKey?: number;
    failureType?: number;
  };
}

export async function resolveFilter(dict: Dictionary, filter: MonitorFilter): Promise<ResolvedFilter> {
  const ids: ResolvedFilter['ids'] = {};
  let empty = false;
  const look = async (key: keyof ResolvedFilter['ids'], kind: Parameters<Dictionary['lookup']>[0], value?: string) => {
    if (value === undefined) return;
    const id = await dict.lookup(kind, value);
    if (id === null) empty = true;
    else ids[key] = id;
  };
  await look('provider', 'provider', filter.provider);
  await look('model', 'model', filter.model);
  await look('project', 'project', filter.project);
  await look('account', 'account', filter.account);
  await look('failureType', 'failureType', filter.failureType);
  if (filter.apiKey !== undefined) {
    const id = await dict.lookupApiKey(filter.apiKey);
    if (id === null) empty = true;
    else ids.apiKey = id;
  }
  return { filter, empty, ids };
}

/** WHERE conditions on mon_event (alias `e`). Time bounds are passed separately. */
export function eventConditions(
  r: ResolvedFilter,
  from: number | undefined,
  to: number | undefined,
): { sql: string; params: Array<string | number | bigint> } {
  const c: string[] = [];
  const p: Array<string | number | bigint> = [];
  const f = r.filter;
  if (from !== undefined) {
    c.push('e.ts >= ?');
    p.push(from);
  }
  if (to !== undefined) {
    c.push('e.ts < ?');
    p.push(to);
  }
  const eq = (col: string, v: number | undefined) => {
    if (v === undefined) return;
    c.push(`e.${col} = ?`);
    p.push(v);
  };
  eq('provider_id', r.ids.provider);
  eq('model_id', r.ids.model);
  eq('project_id', r.ids.project);
  eq('account_id', r.ids.account);
  eq('api_key_id', r.ids.apiKey);
  eq('failure_type_id', r.ids.failureType);
  eq('status', f.status);
  if (f.outcome) c.push(f.outcome === 'failure' ? 'e.failed = 1' : 'e.failed = 0');
  // Only failed events carry a failure type or an error status: saying so lets the planner use the
  // partial index over failed events (migration 210) instead of every event in the range.
  else if (r.ids.failureType !== undefined || (f.status !== undefined && f.status !== 200)) c.push('e.failed = 1');
  if (f.minLatencyMs !== undefined) {
    c.push('e.latency_ms >= ?');
    p.push(f.minLatencyMs);
    // Implied by the threshold; written as a literal so the planner can use the partial index over
    // slow events (migration 240), which it matches word for word, never through a parameter.
    if (f.minLatencyMs >= SLOW_LATENCY_MS) c.push(`e.latency_ms >= ${SLOW_LATENCY_MS}`);
  }
  if (f.maxLatencyMs !== undefined) {
    c.push('e.latency_ms <= ?');
    p.push(f.maxLatencyMs);
  }
  if (f.cacheState !== undefined) {
    c.push('e.cache_state = ?');
    p.push(CACHE_STATES.indexOf(f.cacheState));
  }
  if (f.requestId !== undefined) {
    // The unique dedupe index finds it; the text comparison rules out a hash collision.
    c.push('e.dedupe_key = ? AND e.request_id = ?');
    p.push(dedupeKeyOf(f.requestId, null), f.requestId);
  }
  return { sql: c.length > 0 ? c.join(' AND ') : '1 = 1', params: p };
}
