// Export of the request list (same filters as the views) as JSONL or CSV, page by page so memory
// stays flat at any size. Rows come from MonitorQueries: sanitized summaries only, never raw bodies.
import type { MonitorFilter } from './filters.ts';
import type { MonitorQueries, RequestRow } from './queries.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const CSV_COLUMNS: Array<[string, (r: RequestRow) => string | number | boolean | null]> = [
  ['time', (r) => r.time],
  ['request_id', (r) => r.requestId],
  ['provider', (r) => r.provider],
  ['executor', (r) => r.executor],
  ['model', (r) => r.model],
  ['alias', (r) => r.alias],
  ['endpoint', (r) => r.endpoint],
  ['account', (r) => r.account],
  ['api_key', (r) => r.apiKey],
  ['project', (r) => r.project],
  ['status', (r) => r.status],
  ['failed', (r) => r.failed],
  ['failure_type', (r) => r.failureType],
  ['error_type', (r) => r.failure?.errorType ?? null],
  ['error_code', (r) => r.failure?.errorCode ?? null],
  ['message', (r) => r.failure?.message ?? null],
  ['latency_ms', (r) => r.latencyMs],
  ['ttft_ms', (r) => r.ttftMs],
  ['input_tokens', (r) => r.tokens.input],
  ['cached_tokens', (r) => r.tokens.cached],
  ['output_tokens', (r) => r.tokens.output],
  ['reasoning_tokens', (r) => r.tokens.reasoning],
  ['total_tokens', (r) => r.tokens.total],
  ['cache_state', (r) => r.cacheState],
  ['reasoning_effort', (r) => r.reasoningEffort],
  ['service_tier', (r) => r.serviceTier],
  ['cost_usd', (r) => (r.costUsd === null ? null : Number(r.costUsd.toFixed(8)))],
];

/** One CSV cell: quoted when needed, and formula-looking text defused for spreadsheets. */
export function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function* exportRequests(
  queries: MonitorQueries,
  filter: MonitorFilter,
  format: ExportFormat,
  options: { maxRows?: number; pageSize?: number } = {},
): AsyncGenerator<string> {
  const max = options.maxRows ?? Number.POSITIVE_INFINITY;
  if (format === 'csv') yield `${CSV_COLUMNS.map(([name]) => name).join(',')}\n`;
  let cursor: string | null = null;
  let sent = 0;
  do {
    const page = await queries.list(filter, { limit: options.pageSize ?? 1000, cursor });
    let chunk = '';
    for (const r of page.rows) {
      if (sent >= max) break;
      chunk +=
        format === 'csv' ? `${CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(',')}\n` : `${JSON.stringify(r)}\n`;
      sent++;
    }
    if (chunk) yield chunk;
    cursor = sent >= max ? null : page.nextCursor;
  } while (cursor);
}
