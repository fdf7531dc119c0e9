// Filters shared by every view and the export, resolved to dictionary ids. A value never seen makes the
// filter match nothing. Parsing them from query strings is filter-query.ts (zod), which only faces load.
import type { Dictionary } from './dictionary.ts';
import { CACHE_STATES, type CacheState } from './event.ts';
import { SLOW_LATENCY_MS } from './pairs.ts';
import { dedupeKeyOf, keyHigh } from './record.ts';

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
    // Implied by the threshold; also written as a literal, so the planner can prove that the partial
    // index over slow events (migration 240) applies without the bound value (PostgreSQL's generic
    // plans do not look at it; SQLite does).
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
    // By key (migration 250): hours the compactor closed through mon_key_lookup, the hours after its
    // mark through the (ts, dedupe_key) index; the text comparison rules out a hash collision.
    c.push(
      'e.request_id = ? AND e.dedupe_key = ? AND e.id IN (SELECT event_id FROM mon_key_lookup WHERE key_high = ? UNION ALL ' +
        'SELECT id FROM mon_event WHERE ts >= (SELECT COALESCE(MAX(mark), 0) FROM mon_pair_mark) AND dedupe_key = ?)',
    );
    const key = dedupeKeyOf(f.requestId, null);
    p.push(f.requestId, key, keyHigh(key), key);
  }
  return { sql: c.length > 0 ? c.join(' AND ') : '1 = 1', params: p };
}
