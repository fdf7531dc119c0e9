// The views: summary cards, account overview, API key summary, realtime list, one request. Sums come
// from hour rollups for the whole hours of the range and from raw events for the ragged edges, when
// the filter allows (rollups know provider, model, tier and ONE of account/key/status/project).
import type { Clock } from '../domain/time.ts';
import type { Db, SqlValue } from '../store/db.ts';
import { estimateCost } from './cost.ts';
import type { Dictionary } from './dictionary.ts';
import { CACHE_STATES, type CacheState, type FailureSummary, type TokenCounts } from './event.ts';
import { eventConditions, type MonitorFilter, type ResolvedFilter, resolveFilter } from './filters.ts';
import { DIMS, GRAIN_DAY, GRAIN_HOUR } from './ingest.ts';
import { BUCKET_COUNT, latencyBucketSql, percentileFromHistogram } from './latency.ts';
import { classAtLeast, PAIR_DIMS, PAIRS, pairMark } from './pairs.ts';
import type { PriceTable } from './prices.ts';
import { ROLLUP_SUMS } from './rollup-sums.ts';

/** Adds `sql` and its value to a WHERE list when the value is given (a filter left out adds nothing). */
function when(c: string[], p: SqlValue[], sql: string, value: SqlValue | undefined): void {
  if (value === undefined) return;
  c.push(sql);
  p.push(value);
}

export type GroupBy = 'none' | 'account' | 'apiKey' | 'model' | 'status' | 'project';

export interface Totals {
  requests: number;
  failures: number;
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  avgLatencyMs: number | null;
  avgTtftMs: number | null;
  tokens: TokenCounts;
  cacheHitRate: number | null;
  /** Estimated USD for the priced requests; null when nothing could be priced. */
  costUsd: number | null;
  unpricedRequests: number;
  unpricedModels: string[];
}

export interface GroupTotals extends Totals {
  key: string | null;
}

export interface SummaryResult extends Totals {
  /** Which storage answered: rollups, raw events, or both (edges raw). */
  source: 'rollup' | 'raw' | 'mixed' | 'none';
}

export interface RequestRow {
  id: number;
  time: string;
  timestamp: number;
  latencyMs: number | null;
  ttftMs: number | null;
  provider: string | null;
  executor: string | null;
  model: string | null;
  alias: string | null;
  endpoint: string | null;
  account: string | null;
  authType: string | null;
  apiKey: string | null;
  project: string | null;
  status: number;
  failed: boolean;
  failureType: string | null;
  failure: FailureSummary | null;
  tokens: TokenCounts;
  cacheState: CacheState;
  reasoningEffort: string | null;
  serviceTier: string | null;
  requestId: string | null;
  costUsd: number | null;
}

export interface ListOptions {
  limit?: number;
  cursor?: string | null;
}

export interface ListResult {
  rows: RequestRow[];
  nextCursor: string | null;
}

interface Acc {
  sums: number[];
  hist: number[];
  cost: number;
  priced: number;
  unpriced: number;
  unpricedModels: Set<string>;
}

const SUM_INDEX = Object.fromEntries(ROLLUP_SUMS.map((c, i) => [c, i])) as Record<string, number>;
const HIST0 = SUM_INDEX.h0;

const RAW_SUMS: Record<string, string> = {
  requests: 'COUNT(*)',
  failures: 'SUM(e.failed)',
  lat_n: 'COUNT(e.latency_ms)',
  lat_sum: 'SUM(e.latency_ms)',
  ttft_n: 'COUNT(e.ttft_ms)',
  ttft_sum: 'SUM(e.ttft_ms)',
  input_tokens: 'SUM(e.input_tokens)',
  output_tokens: 'SUM(e.output_tokens)',
  reasoning_tokens: 'SUM(e.reasoning_tokens)',
  cached_tokens: 'SUM(e.cached_tokens)',
  cache_creation_tokens: 'SUM(e.cache_creation_tokens)',
  total_tokens: 'SUM(e.total_tokens)',
  cache_hits: `SUM(CASE WHEN e.cache_state = ${CACHE_STATES.indexOf('hit')} THEN 1 ELSE 0 END)`,
};
// Raw events are grouped by latency bucket (one CASE per row) instead of summing 16 CASEs per row.
const RAW_BUCKET = latencyBucketSql('e.latency_ms');
const BASE_SUMS = ROLLUP_SUMS.filter((c) => !/^h\d+$/.test(c));

const RAW_GROUP: Record<GroupBy, string> = {
  none: '0',
  model: '0',
  account: 'e.account_id',
  apiKey: 'e.api_key_id',
  status: 'e.status',
  project: 'e.project_id',
};

const DIM_OF: Partial<Record<GroupBy, number>> = {
  account: DIMS.account,
  apiKey: DIMS.apiKey,
  status: DIMS.status,
  project: DIMS.project,
};

export function encodeCursor(ts: number, id: number): string {
  return Buffer.from(`${ts}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { ts: number; id: number } | null {
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? { ts: Number(m[1]), id: Number(m[2]) } : null;
}

export interface QueriesOptions {
  db: Db;
  dict: Dictionary;
  prices: () => Promise<PriceTable> | PriceTable;
  clock: Clock;
}

export class MonitorQueries {
  readonly db: Db;
  readonly dict: Dictionary;
  private readonly prices: () => Promise<PriceTable> | PriceTable;
  private readonly clock: Clock;

  constructor(o: QueriesOptions) {
    this.db = o.db;
    this.dict = o.dict;
    this.prices = o.prices;
    this.clock = o.clock;
  }

  async summary(filter: MonitorFilter): Promise<SummaryResult> {
    const { groups, source } = await this.aggregate(filter, 'none');
    const t = groups.get('0') ?? emptyAcc();
    return { ...finish(t), source };
  }

  /** Failures and traffic per account (auth_index), most failures first. */
  async accounts(filter: MonitorFilter): Promise<GroupTotals[]> {
    return this.grouped(filter, 'account', (a, b) => b.failures - a.failures || b.requests - a.requests);
  }

  /** Traffic and cost per caller API key (masked label), busiest first. */
  async apiKeys(filter: MonitorFilter): Promise<GroupTotals[]> {
    return this.grouped(filter, 'apiKey', (a, b) => b.requests - a.requests);
  }

  async models(filter: MonitorFilter): Promise<GroupTotals[]> {
    return this.grouped(filter, 'model', (a, b) => b.requests - a.requests);
  }

  async statuses(filter: MonitorFilter): Promise<GroupTotals[]> {
    return this.grouped(filter, 'status', (a, b) => b.requests - a.requests);
  }

  private async grouped(
    filter: MonitorFilter,
    by: GroupBy,
    order: (a: GroupTotals, b: GroupTotals) => number,
  ): Promise<GroupTotals[]> {
    const { groups } = await this.aggregate(filter, by, by === 'model' || by === 'status');
    const out: GroupTotals[] = [];
    for (const [k, acc] of groups) {
      let key: string | null = k;
      if (by === 'account' || by === 'project') key = this.dict.nameSync(Number(k));
      else if (by === 'apiKey') key = this.dict.apiKeyLabel(Number(k));
      else if (by === 'model') key = k === '' ? null : k;
      out.push({ key, ...finish(acc) });
    }
    return out.sort(order);
  }

  /** Newest first; `cursor` continues after the last row of the previous page. */
  async list(filter: MonitorFilter, options: ListOptions = {}): Promise<ListResult> {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 1000);
    const r = await resolveFilter(this.dict, filter);
    if (r.empty) return { rows: [], nextCursor: null };
    const cond = eventConditions(r, filter.from, filter.to);
    const params: SqlValue[] = [...cond.params];
    let where = cond.sql;
    if (options.cursor) {
      const c = decodeCursor(options.cursor);
      if (!c) throw new RangeError('cursor is not valid: pass the nextCursor of the previous page');
      where += ' AND (e.ts < ? OR (e.ts = ? AND e.id < ?))';
      params.push(c.ts, c.ts, c.id);
    }
    params.push(limit + 1);
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_SELECT} FROM mon_event e LEFT JOIN mon_failure f ON f.event_id = e.id
       WHERE ${where} ORDER BY e.ts DESC, e.id DESC LIMIT ?`,
      params,
    );
    const page = rows.slice(0, limit);
    const out = await this.toRows(page);
    const last = page.at(-1);
    return {
      rows: out,
      nextCursor: rows.length > limit && last ? encodeCursor(Number(last.ts), Number(last.id)) : null,
    };
  }

  /** One request with its sanitized failure summary (never the raw body). */
  async request(id: number): Promise<RequestRow | null> {
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_SELECT} FROM mon_event e LEFT JOIN mon_failure f ON f.event_id = e.id WHERE e.id = ?`,
      [id],
    );
    return rows.length === 0 ? null : ((await this.toRows(rows))[0] ?? null);
  }

  /** Turns stored rows (or rows just ingested) into API rows. */
  async toRows(rows: EventRow[]): Promise<RequestRow[]> {
    const ids = rows.flatMap((r) => [r.provider_id, r.model_id, r.account_id, r.api_key_id]);
    if (
      ids.some(
        (id) => id != null && this.dict.nameSync(Number(id)) === null && this.dict.apiKeyLabel(Number(id)) === null,
      )
    ) {
      await this.dict.refresh();
    }
    const table = await this.prices();
    const n = (id: number | null) => this.dict.nameSync(id);
    return rows.map((r) => {
      const tokens: TokenCounts = {
        input: Number(r.input_tokens),
        output: Number(r.output_tokens),
        reasoning: Number(r.reasoning_tokens),
        cached: Number(r.cached_tokens),
        cacheCreation: Number(r.cache_creation_tokens),
        total: Number(r.total_tokens),
      };
      const failed = Number(r.failed) === 1;
      const provider = n(r.provider_id);
      const model = n(r.model_id);
      const alias = n(r.alias_id);
      const tier = n(r.tier_id);
      const ts = Number(r.ts);
      return {
        id: Number(r.id),
        time: new Date(ts).toISOString(),
        timestamp: ts,
        latencyMs: r.latency_ms == null ? null : Number(r.latency_ms),
        ttftMs: r.ttft_ms == null ? null : Number(r.ttft_ms),
        provider,
        executor: n(r.executor_id),
        model,
        alias,
        endpoint: n(r.endpoint_id),
        account: n(r.account_id),
        authType: n(r.auth_type_id),
        apiKey: this.dict.apiKeyLabel(r.api_key_id),
        project: n(r.project_id),
        status: Number(r.status),
        failed,
        failureType: n(r.failure_type_id),
        failure: failed
          ? {
              statusCode: Number(r.status),
              errorType: r.error_type ?? null,
              errorCode: r.error_code ?? null,
              message: r.message ?? null,
            }
          : null,
        tokens,
        cacheState: CACHE_STATES[Number(r.cache_state)] ?? 'unknown',
        reasoningEffort: n(r.effort_id),
        serviceTier: tier,
        requestId: r.request_id ?? null,
        costUsd: estimateCost(table, { provider, model, alias, tier }, tokens),
      };
    });
  }

  /** Sums per group, from rollups where the filter allows, else from raw events. */
  async aggregate(
    filter: MonitorFilter,
    by: GroupBy,
    withLatency = true,
  ): Promise<{ groups: Map<string, Acc>; source: SummaryResult['source'] }> {
    const groups = new Map<string, Acc>();
    const r = await resolveFilter(this.dict, filter);
    if (r.empty) return { groups, source: 'none' };
    const table = await this.prices();
    const dim = rollupDim(r, by);
    const pair = dim === null ? pairPlan(r, by) : null;
    let usedRollup = false;
    let usedRaw = false;
    let ranges: Array<[number | undefined, number | undefined]> = [[filter.from, filter.to]];
    if (dim !== null || pair !== null) {
      // Pair rows exist only before the compaction mark; after it the raw events answer.
      let end = filter.to ?? this.clock() + GRAIN_HOUR;
      if (pair !== null) end = Math.min(end, await pairMark(this.db));
      const plan = planSpans(filter.from, filter.to, end, pair?.hourly ?? true);
      for (const [grain, from, until] of plan.spans) {
        if (dim !== null) await this.fromRollups(r, by, dim, grain, from, until, groups, table, withLatency);
        else if (pair !== null) await this.fromPairs(r, by, pair, grain, from, until, groups, table, withLatency);
      }
      usedRollup = plan.spans.length > 0;
      ranges = plan.raw;
    }
    for (const [from, to] of ranges) {
      const n = await this.fromRaw(r, by, from, to, groups, table, withLatency);
      if (n > 0) usedRaw = true;
    }
    return { groups, source: usedRollup ? (usedRaw ? 'mixed' : 'rollup') : 'raw' };
  }

  private async fromRollups(
    r: ResolvedFilter,
    by: GroupBy,
    dim: { dim: number; value: number | undefined },
    grain: number,
    from: number | undefined,
    to: number,
    groups: Map<string, Acc>,
    table: PriceTable,
    withLatency: boolean,
  ): Promise<void> {
    const c = ['grain = ?', 'dim = ?', 'bucket < ?'];
    const p: SqlValue[] = [grain, dim.dim, to];
    when(c, p, 'bucket >= ?', from);
    when(c, p, 'dim_value = ?', dim.value);
    when(c, p, 'provider_id = ?', r.ids.provider);
    when(c, p, 'model_id = ?', r.ids.model);
    const g = DIM_OF[by] !== undefined ? 'dim_value' : '0';
    const rows = await this.db.query<Record<string, number | null>>(
      `SELECT ${g} AS g, provider_id, model_id, tier_id, ${(withLatency ? ROLLUP_SUMS : BASE_SUMS).map((s) => `SUM(${s}) AS ${s}`).join(', ')}
       FROM mon_rollup WHERE ${c.join(' AND ')} GROUP BY ${g === '0' ? '' : 'dim_value, '}provider_id, model_id, tier_id`,
      p,
    );
    await this.merge(rows, by, groups, table, false);
  }

  private async fromPairs(
    r: ResolvedFilter,
    by: GroupBy,
    pair: PairPlan,
    grain: number,
    from: number | undefined,
    to: number,
    groups: Map<string, Acc>,
    table: PriceTable,
    withLatency: boolean,
  ): Promise<void> {
    let c = ['grain = ?', 'dim = ?', 'dim2 = ?', 'bucket < ?'];
    let p: SqlValue[] = [grain, pair.dim, pair.dim2, to];
    when(c, p, 'bucket >= ?', from);
    const seek =
      pair.group === 'dim_value' && pair.value === undefined ? await this.seekList(pair.dim, grain, from, to) : null;
    if (seek !== null) {
      if (seek.values.length === 0) return;
      const list = (n: number) => new Array(n).fill('?').join(', ');
      c = [
        'grain = ?',
        `bucket IN (${list(seek.buckets.length)})`,
        'dim = ?',
        `dim_value IN (${list(seek.values.length)})`,
        'dim2 = ?',
      ];
      p = [grain, ...seek.buckets, pair.dim, ...seek.values, pair.dim2];
    }
    when(c, p, 'dim_value = ?', pair.value);
    when(c, p, 'dim2_value = ?', pair.value2);
    when(c, p, 'dim2_value >= ?', pair.value2Min);
    when(c, p, 'provider_id = ?', r.ids.provider);
    when(c, p, 'model_id = ?', r.ids.model);
    const g = pair.group;
    const rows = await this.db.query<Record<string, number | null>>(
      `SELECT ${g} AS g, provider_id, model_id, tier_id, ${(withLatency ? ROLLUP_SUMS : BASE_SUMS).map((s) => `SUM(${s}) AS ${s}`).join(', ')}
       FROM mon_rollup_pair WHERE ${c.join(' AND ')} GROUP BY ${g === '0' ? '' : `${g}, `}provider_id, model_id, tier_id`,
      p,
    );
    await this.merge(rows, by, groups, table, false);
  }

  /**
   * For pair rows grouped by account or API key: the key is (grain, bucket, dim, dim_value, dim2, …),
   * so a bucket range reads every value's rows of every second dimension. The buckets of the span and
   * the values present in them (from mon_rollup, which holds every event the pair rows hold, kept as
   * long) turn that into one key seek each. Null when the span is open or the lists would be long.
   */
  private async seekList(
    dim: number,
    grain: number,
    from: number | undefined,
    to: number,
  ): Promise<{ buckets: number[]; values: number[] } | null> {
    if (from === undefined || from % grain !== 0 || (to - from) / grain > 64) return null;
    const buckets: number[] = [];
    for (let b = from; b < to; b += grain) buckets.push(b);
    if (buckets.length === 0) return { buckets, values: [] };
    const rows = await this.db.query<{ v: number }>(
      `SELECT DISTINCT dim_value AS v FROM mon_rollup WHERE grain = ? AND bucket IN (${buckets.map(() => '?').join(', ')}) AND dim = ?`,
      [grain, ...buckets, dim],
    );
    if (rows.length * buckets.length > 20_000) return null;
    return { buckets, values: rows.map((x) => Number(x.v)) };
  }

  private async fromRaw(
    r: ResolvedFilter,
    by: GroupBy,
    from: number | undefined,
    to: number | undefined,
    groups: Map<string, Acc>,
    table: PriceTable,
    withLatency: boolean,
  ): Promise<number> {
    const cond = eventConditions(r, from, to);
    const g = RAW_GROUP[by];
    const lb = withLatency ? `, ${RAW_BUCKET}` : '';
    const rows = await this.db.query<Record<string, number | null>>(
      `SELECT ${g} AS g, e.provider_id AS provider_id, e.model_id AS model_id, e.alias_id AS alias_id, e.tier_id AS tier_id,
       ${withLatency ? `${RAW_BUCKET} AS lb, ` : ''}${BASE_SUMS.map((s) => `${RAW_SUMS[s]} AS ${s}`).join(', ')}
       FROM mon_event e WHERE ${cond.sql}
       GROUP BY ${g === '0' ? '' : `${g}, `}e.provider_id, e.model_id, e.alias_id, e.tier_id${lb}`,
      cond.params,
    );
    await this.merge(rows, by, groups, table, true);
    return rows.length;
  }

  private async merge(
    rows: Array<Record<string, number | null>>,
    by: GroupBy,
    groups: Map<string, Acc>,
    table: PriceTable,
    raw: boolean,
  ): Promise<void> {
    if (rows.length === 0) return;
    const known = (id: number | null) => id == null || id === 0 || this.dict.nameSync(Number(id)) !== null;
    if (
      !rows.every(
        (row) => known(row.provider_id) && known(row.model_id) && known(row.tier_id) && known(row.alias_id ?? null),
      )
    ) {
      await this.dict.refresh();
    }
    for (const row of rows) {
      const provider = this.dict.nameSync(row.provider_id);
      const model = this.dict.nameSync(row.model_id) ?? (raw ? this.dict.nameSync(row.alias_id) : null);
      const alias = raw ? this.dict.nameSync(row.alias_id) : null;
      const tier = this.dict.nameSync(row.tier_id);
      const key = by === 'model' ? (model ?? '') : String(Number(row.g ?? 0));
      let acc = groups.get(key);
      if (!acc) {
        acc = emptyAcc();
        groups.set(key, acc);
      }
      const sums = ROLLUP_SUMS.map((s) => Number(row[s] ?? 0));
      for (let i = 0; i < sums.length; i++) acc.sums[i] += sums[i];
      if (raw) {
        // A raw row is one latency bucket (lb) of one group; lat_n counts its events with a latency.
        if (row.lb != null) acc.hist[Number(row.lb)] += sums[SUM_INDEX.lat_n];
      } else {
        for (let i = 0; i < BUCKET_COUNT; i++) acc.hist[i] += sums[HIST0 + i];
      }
      const cost = estimateCost(
        table,
        { provider, model, alias, tier },
        {
          input: sums[SUM_INDEX.input_tokens],
          cached: sums[SUM_INDEX.cached_tokens],
          output: sums[SUM_INDEX.output_tokens],
          reasoning: sums[SUM_INDEX.reasoning_tokens],
        },
      );
      const requests = sums[SUM_INDEX.requests];
      if (cost === null) {
        acc.unpriced += requests;
        acc.unpricedModels.add(model ?? '(none)');
      } else {
        acc.cost += cost;
        acc.priced += requests;
      }
    }
  }
}

/** Which rollup dimension answers this filter and grouping, or null when only raw events can. */
function rollupDim(r: ResolvedFilter, by: GroupBy): { dim: number; value: number | undefined } | null {
  const f = r.filter;
  if (f.failureType !== undefined || f.outcome !== undefined || f.minLatencyMs !== undefined) return null;
  if (f.maxLatencyMs !== undefined || f.cacheState !== undefined || f.requestId !== undefined) return null;
  const filtered: Array<[GroupBy, number]> = [];
  if (r.ids.account !== undefined) filtered.push(['account', r.ids.account]);
  if (r.ids.apiKey !== undefined) filtered.push(['apiKey', r.ids.apiKey]);
  if (f.status !== undefined) filtered.push(['status', f.status]);
  if (r.ids.project !== undefined) filtered.push(['project', r.ids.project]);
  if (filtered.length > 1) return null;
  const groupDim = DIM_OF[by];
  if (groupDim !== undefined) {
    if (filtered.length === 1 && filtered[0][0] !== by) return null;
    return { dim: groupDim, value: filtered[0]?.[1] };
  }
  if (filtered.length === 1) return { dim: DIM_OF[filtered[0][0]] as number, value: filtered[0][1] };
  return { dim: DIMS.total, value: undefined };
}

interface PairPlan {
  dim: number;
  value: number | undefined;
  dim2: number;
  value2: number | undefined;
  /** dim2_value ≥ this (latency classes at or above a threshold). */
  value2Min?: number;
  /** Column grouped on ('0' for one total). */
  group: 'dim_value' | 'dim2_value' | '0';
  /** Hour rows exist too (else day rows only, raw rows for the rest). */
  hourly: boolean;
}

/**
 * Which pair rollup (src/monitor/pairs.ts) answers this filter and grouping when mon_rollup cannot:
 * account × API key (filtered or grouped, day grain), or ONE of a cache state, "failures only", a
 * failure type, a status or a min latency on a class bound, with at most one of account / API key.
 * Null: raw events only.
 */
function pairPlan(r: ResolvedFilter, by: GroupBy): PairPlan | null {
  const f = r.filter;
  if (f.maxLatencyMs !== undefined || f.requestId !== undefined || r.ids.project !== undefined) return null;
  if (f.outcome === 'success') return null;
  if (by === 'status' || by === 'project') return null;
  const account = r.ids.account;
  const apiKey = r.ids.apiKey;
  const extras: Array<Pick<PairPlan, 'dim2' | 'value2' | 'value2Min'>> = [];
  if (f.cacheState !== undefined) extras.push({ dim2: PAIR_DIMS.cache, value2: CACHE_STATES.indexOf(f.cacheState) });
  // Failure-type rows hold every failed event: "failures only" is all of them, a type one of them.
  if (r.ids.failureType !== undefined) extras.push({ dim2: PAIR_DIMS.failureType, value2: r.ids.failureType });
  else if (f.outcome === 'failure') extras.push({ dim2: PAIR_DIMS.failureType, value2: undefined });
  if (f.status !== undefined) {
    // Status rows exist for failed events only; a status that is not an error is left to raw rows.
    if (f.status === 200 || (f.outcome === 'failure' && r.ids.failureType === undefined)) return null;
    extras.push({ dim2: PAIR_DIMS.status, value2: f.status });
  }
  if (f.minLatencyMs !== undefined) {
    const k = classAtLeast(f.minLatencyMs);
    if (k === null) return null;
    extras.push({ dim2: PAIR_DIMS.latency, value2: undefined, value2Min: k });
  }
  if (extras.length > 1) return null;
  if (extras.length === 1) {
    // One of total / account / API key, filtered and/or grouped.
    const dims = new Set<number>();
    if (account !== undefined || by === 'account') dims.add(PAIR_DIMS.account);
    if (apiKey !== undefined || by === 'apiKey') dims.add(PAIR_DIMS.apiKey);
    if (dims.size > 1) return null;
    const dim = [...dims][0] ?? PAIR_DIMS.total;
    if (!PAIRS.some((p) => p.dim === dim && p.dim2 === extras[0].dim2)) return null;
    const value = dim === PAIR_DIMS.account ? account : dim === PAIR_DIMS.apiKey ? apiKey : undefined;
    const group = by === 'account' || by === 'apiKey' ? 'dim_value' : '0';
    const hourly = PAIRS.some((p) => p.dim === dim && p.dim2 === extras[0].dim2 && p.grains.includes(GRAIN_HOUR));
    return { dim, value, ...extras[0], group, hourly };
  }
  // Account × API key: both filtered, or one filtered and the view grouped by the other.
  const hasAccount = account !== undefined || by === 'account';
  const hasKey = apiKey !== undefined || by === 'apiKey';
  if (!hasAccount || !hasKey) return null;
  const group = by === 'account' ? 'dim_value' : by === 'apiKey' ? 'dim2_value' : '0';
  return { dim: PAIR_DIMS.account, value: account, dim2: PAIR_DIMS.apiKey, value2: apiKey, group, hourly: false };
}

/**
 * Cuts [from, to) into rollup spans (hour rows up to the day boundaries when `hourly`, day rows
 * between) and the ragged edges left for raw events. `end` stands in for an open `to`.
 */
export function planSpans(
  from: number | undefined,
  to: number | undefined,
  end: number,
  hourly: boolean,
): { spans: Array<[number, number | undefined, number]>; raw: Array<[number | undefined, number | undefined]> } {
  const up = (t: number, g: number) => Math.ceil(t / g) * g;
  const down = (t: number, g: number) => Math.floor(t / g) * g;
  const fine = hourly ? GRAIN_HOUR : GRAIN_DAY;
  const hs = from === undefined ? undefined : up(from, fine);
  const he = down(end, fine);
  if (hs !== undefined && hs >= he) return { spans: [], raw: [[from, to]] };
  const raw: Array<[number | undefined, number | undefined]> = [];
  if (hs !== undefined && from !== undefined && from < hs) raw.push([from, hs]);
  raw.push([he, to]);
  if (!hourly) return { spans: [[GRAIN_DAY, hs, he]], raw };
  const ds = hs === undefined ? undefined : up(hs, GRAIN_DAY);
  const de = down(he, GRAIN_DAY);
  const spans: Array<[number, number | undefined, number]> =
    ds !== undefined && ds >= de
      ? [[GRAIN_HOUR, hs, he]]
      : [
          ...(hs !== undefined && ds !== undefined && hs < ds
            ? [[GRAIN_HOUR, hs, ds] as [number, number, number]]
            : []),
          [GRAIN_DAY, ds, de] as [number, number | undefined, number],
          ...(de < he ? [[GRAIN_HOUR, de, he] as [number, number, number]] : []),
        ];
  return { spans, raw };
}

function emptyAcc(): Acc {
  return {
    sums: new Array(ROLLUP_SUMS.length).fill(0),
    hist: new Array(BUCKET_COUNT).fill(0),
    cost: 0,
    priced: 0,
    unpriced: 0,
    unpricedModels: new Set(),
  };
}

function finish(a: Acc): Totals {
  const s = (name: string) => a.sums[SUM_INDEX[name]];
  const requests = s('requests');
  const failures = s('failures');
  return {
    requests,
    failures,
    successRate: requests === 0 ? null : (requests - failures) / requests,
    latencyP50Ms: percentileFromHistogram(a.hist, 0.5),
    latencyP95Ms: percentileFromHistogram(a.hist, 0.95),
    avgLatencyMs: s('lat_n') === 0 ? null : Math.round(s('lat_sum') / s('lat_n')),
    avgTtftMs: s('ttft_n') === 0 ? null : Math.round(s('ttft_sum') / s('ttft_n')),
    tokens: {
      input: s('input_tokens'),
      output: s('output_tokens'),
      reasoning: s('reasoning_tokens'),
      cached: s('cached_tokens'),
      cacheCreation: s('cache_creation_tokens'),
      total: s('total_tokens'),
    },
    cacheHitRate: requests === 0 ? null : s('cache_hits') / requests,
    costUsd: a.priced === 0 ? null : a.cost,
    unpricedRequests: a.unpriced,
    unpricedModels: [...a.unpricedModels].sort(),
  };
}

export interface EventRow {
  id: number;
  ts: number;
  status: number;
  failed: number;
  latency_ms: number | null;
  ttft_ms: number | null;
  provider_id: number | null;
  executor_id: number | null;
  model_id: number | null;
  alias_id: number | null;
  endpoint_id: number | null;
  account_id: number | null;
  auth_type_id: number | null;
  api_key_id: number | null;
  project_id: number | null;
  failure_type_id: number | null;
  effort_id: number | null;
  tier_id: number | null;
  cache_state: number;
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cached_tokens: number;
  cache_creation_tokens: number;
  total_tokens: number;
  request_id: string | null;
  error_type: string | null;
  error_code: string | null;
  message: string | null;
}

// Explicit columns: never dedupe_key (a 64-bit value) and never anything from mon_failure_raw.
const EVENT_SELECT = `e.id, e.ts, e.status, e.failed, e.latency_ms, e.ttft_ms, e.provider_id, e.executor_id, e.model_id,
  e.alias_id, e.endpoint_id, e.account_id, e.auth_type_id, e.api_key_id, e.project_id, e.failure_type_id, e.effort_id,
  e.tier_id, e.cache_state, e.input_tokens, e.output_tokens, e.reasoning_tokens, e.cached_tokens,
  e.cache_creation_tokens, e.total_tokens, e.request_id, f.error_type, f.error_code, f.message`;

/** One account's failures of one status and type in the last 24 h (and how many in the last hour). */
export interface AccountFailureRow {
  account: string;
  status: number;
  failureType: string | null;
  failures: number;
  lastHour: number;
}

/** The newest failure of one account, sanitized (the stored summary, never the raw body). */
export interface AccountLastFailure {
  account: string;
  at: number;
  status: number;
  failureType: string | null;
  errorType: string | null;
  errorCode: string | null;
  message: string | null;
}

/**
 * Failures per account × status × type since `from` (24 h), with the count after `hourFrom`, and each
 * account's newest failure. Reads only the partial index over failed events; additive for issue 20.
 */
export async function accountFailures(
  q: MonitorQueries,
  from: number,
  hourFrom: number,
): Promise<{ rows: AccountFailureRow[]; last: AccountLastFailure[] }> {
  const grouped = await q.db.query<{
    account_id: number | null;
    status: number;
    failure_type_id: number | null;
    n: number;
    recent: number;
    last_id: number;
  }>(
    `SELECT e.account_id, e.status, e.failure_type_id, COUNT(*) AS n,
       SUM(CASE WHEN e.ts >= ? THEN 1 ELSE 0 END) AS recent, MAX(e.id) AS last_id
     FROM mon_event e WHERE e.failed = 1 AND e.ts >= ? AND e.account_id IS NOT NULL
     GROUP BY e.account_id, e.status, e.failure_type_id`,
    [hourFrom, from],
  );
  if (grouped.some((g) => q.dict.nameSync(g.account_id) === null)) await q.dict.refresh();
  const rows: AccountFailureRow[] = [];
  const lastId = new Map<string, number>();
  for (const g of grouped) {
    const account = q.dict.nameSync(g.account_id);
    if (account == null) continue;
    rows.push({
      account,
      status: Number(g.status),
      failureType: q.dict.nameSync(g.failure_type_id),
      failures: Number(g.n),
      lastHour: Number(g.recent ?? 0),
    });
    lastId.set(account, Math.max(lastId.get(account) ?? 0, Number(g.last_id)));
  }
  const ids = [...lastId.values()];
  const last: AccountLastFailure[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const found = await q.db.query<EventRow>(
      `SELECT ${EVENT_SELECT} FROM mon_event e LEFT JOIN mon_failure f ON f.event_id = e.id
       WHERE e.id IN (${chunk.map(() => '?').join(',')})`,
      chunk,
    );
    for (const r of found) {
      last.push({
        account: q.dict.nameSync(r.account_id) ?? '',
        at: Number(r.ts),
        status: Number(r.status),
        failureType: q.dict.nameSync(r.failure_type_id),
        errorType: r.error_type ?? null,
        errorCode: r.error_code ?? null,
        message: r.message ?? null,
      });
    }
  }
  return { rows, last };
}
