// Request monitoring (the CPA usage the collector stores): summary cards, account overview, API key
// summary, realtime requests, filters and export. Served by the monitor room under /api/monitor.
import { useEffect, useState } from 'preact/hooks';
import { RangePicker, TimeChart } from '../chart.js';
import { api, Empty, ErrorNote, formatTime, html, useLive, useResource } from '../lib.js';

const FILTERS = [
  ['from', 'From', 'datetime-local'],
  ['to', 'To', 'datetime-local'],
  ['provider', 'Provider', 'text'],
  ['model', 'Model', 'text'],
  ['project', 'Project', 'text'],
  ['account', 'Account (auth_index)', 'text'],
  ['apiKey', 'API key', 'text'],
  ['status', 'HTTP status', 'number'],
  ['failureType', 'Failure type', 'text'],
  ['minLatencyMs', 'Min latency (ms)', 'number'],
  ['maxLatencyMs', 'Max latency (ms)', 'number'],
  ['requestId', 'Request id', 'text'],
];
const SELECTS = [
  ['outcome', 'Outcome', ['', 'success', 'failure']],
  ['cacheState', 'Cache', ['', 'hit', 'miss', 'write', 'unknown']],
];

function queryOf(filter) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) {
    if (v === '' || v == null) continue;
    q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : String(v));
  }
  return q.toString();
}

function fmt(v) {
  if (v == null) return '—';
  if (typeof v === 'number')
    return Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 3 });
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return formatTime(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const pct = (v) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
const ms = (v) => (v == null ? '—' : `${Math.round(v).toLocaleString()} ms`);
const usd = (v) => (v == null ? 'unpriced' : `$${v.toFixed(v < 1 ? 4 : 2)}`);

/** The summary cards of CPA-Manager-Plus's Monitoring view, from the monitor's Totals. */
function summaryCards(s) {
  if (s.requests === undefined) return [];
  return [
    ['Requests', fmt(s.requests)],
    ['Failures', fmt(s.failures)],
    ['Success rate', pct(s.successRate)],
    ['Latency p50', ms(s.latencyP50Ms)],
    ['Latency p95', ms(s.latencyP95Ms)],
    ['Tokens', fmt(s.tokens?.total)],
    ['Cache hit rate', pct(s.cacheHitRate)],
    ['Estimated cost', usd(s.costUsd)],
  ];
}

const GROUP_COLUMNS = [
  ['Requests', (r) => fmt(r.requests)],
  ['Failures', (r) => fmt(r.failures)],
  ['Success', (r) => pct(r.successRate)],
  ['p50', (r) => ms(r.latencyP50Ms)],
  ['p95', (r) => ms(r.latencyP95Ms)],
  ['Tokens', (r) => fmt(r.tokens?.total)],
  ['Cost', (r) => usd(r.costUsd)],
];
const REQUEST_COLUMNS = [
  ['Time', (r) => formatTime(r.time ?? r.timestamp)],
  ['Model', (r) => r.model ?? '—'],
  ['Account', (r) => r.account ?? '—'],
  ['API key', (r) => r.apiKey ?? '—'],
  ['Status', (r) => html`<span class=${r.failed ? 'pill action-delete' : 'pill action-keep'}>${r.status}</span>`],
  ['Latency', (r) => ms(r.latencyMs)],
  ['Tokens', (r) => fmt(r.tokens?.total)],
  ['Cost', (r) => usd(r.costUsd)],
  ['Failure', (r) => (r.failure ? [r.failureType, r.failure.message].filter(Boolean).join(': ') : '—')],
];

/**
 * Account Overview rows lead with the auth_index; when the core maps it to an account (its request
 * outcomes carry the same auth_index), link to that account's card with its quota history, and to
 * the Inspection results.
 */
function accountKeyColumn(byIndex) {
  return [
    'Account (auth_index)',
    (r) => {
      const a = r.key ? byIndex.get(r.key) : null;
      if (!a) return r.key ?? '(none)';
      return html`<span class="mono">${r.key}</span><br /><a href=${`/accounts?account=${encodeURIComponent(a.id)}`}
        data-testid="overview-account-link">${a.name}</a> · <a href="/inspection" class="small">inspection</a>${
          a.requests?.disagreement
            ? html` <span class="bad small" title=${a.requests.disagreement.summary}>disagrees with probe</span>`
            : null
        }`;
    },
  ];
}

/** Rows of the monitor's views; group rows lead with their key (account, API key). */
function RowsTable({ rows, label, keyLabel, keyColumn, columns }) {
  if (!rows || rows.length === 0) return html`<${Empty}>No ${label.toLowerCase()} for this filter.<//>`;
  const cols = keyColumn
    ? [keyColumn, ...columns]
    : keyLabel
      ? [[keyLabel, (r) => r.key ?? '(none)'], ...columns]
      : columns;
  return html`<div class="table-wrap"><table aria-label=${label} data-testid=${`monitor-${label.toLowerCase().replace(/\W+/g, '-')}`}>
    <thead><tr>${cols.map(([c]) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr>${cols.map(([c, get]) => html`<td data-label=${c}>${get(r)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

function useMonitor(path, query, tick) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    api(`/api/monitor/${path}${query ? `?${query}` : ''}`).then(
      (data) => setState({ data, error: null }),
      (error) => setState((s) => ({ data: s.data, error })),
    );
  }, [path, query, tick]);
  return state;
}

/** The series route lives beside the monitor's own routes (/api/series/monitor), same filters. */
function useSeriesOf(query, tick) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    api(`/api/series/monitor?${query}`).then(
      (data) => setState({ data, error: null }),
      (error) => setState((s) => ({ data: s.data, error })),
    );
  }, [query, tick]);
  return state;
}

function firstArray(data) {
  if (!data) return null;
  if (Array.isArray(data)) return data;
  return Object.values(data).find(Array.isArray) ?? null;
}

/** Requests, failures by status, latency, tokens and cost over time, for the page's filter and range. */
function MonitorCharts({ data, error, range, setRange, hasTime }) {
  const d = data;
  const statuses = d ? Object.keys(d.failuresByStatus).sort() : [];
  return html`<section class="panel" aria-label="Over time">
    <div class="panel-head"><h2>Over time</h2>
      ${hasTime ? html`<span class="muted small">range from the filter's From/To</span>` : html`<${RangePicker} value=${range} onChange=${setRange} label="Monitoring range" />`}
    </div>
    ${
      d
        ? html`<div class="chart-grid">
          <${TimeChart} title="Requests and failures" testid="monitor-requests-chart" t=${d.t}
            series=${[{ label: 'requests', values: d.requests }, { label: 'failures', values: d.failures }]} />
          <${TimeChart} title="Failures by HTTP status" testid="monitor-failures-chart" t=${d.t}
            series=${statuses.map((k) => ({ label: k, values: d.failuresByStatus[k] }))} />
          <${TimeChart} title="Latency p50 / p95" testid="monitor-latency-chart" t=${d.t} yLabel="ms"
            format=${(v) => `${Math.round(v)} ms`}
            series=${[{ label: 'p50', values: d.latencyP50Ms }, { label: 'p95', values: d.latencyP95Ms }]} />
          <${TimeChart} title="Tokens" testid="monitor-tokens-chart" t=${d.t}
            format=${(v) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : String(Math.round(v)))}
            series=${[{ label: 'tokens', values: d.tokens }]} />
          <${TimeChart} title="Estimated cost (USD)" testid="monitor-cost-chart" t=${d.t}
            format=${(v) => `$${v.toFixed(v < 1 ? 3 : 2)}`}
            series=${[{ label: 'cost', values: d.costUsd }]} />
        </div>`
        : error
          ? html`<p class="muted small">No series: ${error.message}</p>`
          : html`<p class="muted small">Loading…</p>`
    }
  </section>`;
}

export function MonitoringPage({ search } = {}) {
  const [range, setRange] = useState('24h');
  // `?account=<auth_index>` (the Accounts page's link) starts filtered to that account.
  const initial = (() => {
    const account = new URLSearchParams(search ?? '').get('account');
    return account ? { account } : {};
  })();
  const [draft, setDraft] = useState(initial);
  const [filter, setFilter] = useState(initial);
  const fleetAccounts = useResource('/api/accounts', ['accounts']);
  const byIndex = new Map(
    (fleetAccounts.data?.accounts ?? []).filter((a) => a.requests?.authIndex).map((a) => [a.requests.authIndex, a]),
  );
  const [live, setLive] = useState(true);
  const [tick, setTick] = useState(0);
  const query = queryOf(filter);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, [live]);
  useLive(['monitor'], () => live && setTick((n) => n + 1));
  const summary = useMonitor('summary', query, tick);
  const accounts = useMonitor('accounts', query, tick);
  const keys = useMonitor('api-keys', query, tick);
  const requests = useMonitor('requests', `${query}${query ? '&' : ''}limit=50`, tick);
  const hasTime = filter.from || filter.to;
  const series = useSeriesOf(`${query}${hasTime ? '' : `${query ? '&' : ''}range=${range}`}`, tick);
  if (summary.error?.status === 404) {
    return html`<${Empty}>Request monitoring is not enabled on this server. Start a collector with <code>codex-fleet monitor run</code>.<//>`;
  }
  const s = summary.data?.summary ?? summary.data ?? {};
  const cards = summaryCards(s);
  const apply = (e) => {
    e.preventDefault();
    setFilter({ ...draft });
  };
  return html`
    <${ErrorNote} error=${summary.error} />
    <section class="cards" aria-label="Summary">
      ${cards.map(([k, v]) => html`<div class="card"><span class="card-label">${k}</span><span class="card-value small-value">${v}</span></div>`)}
    </section>
    <details class="panel filters">
      <summary>Filters${query ? ' (active)' : ''}</summary>
      <form class="form grid-3" onSubmit=${apply}>
        ${FILTERS.map(
          ([k, label, type]) => html`<label class="field"><span>${label}</span>
            <input type=${type} value=${draft[k] ?? ''} onInput=${(e) => setDraft({ ...draft, [k]: e.target.value })} /></label>`,
        )}
        ${SELECTS.map(
          ([k, label, options]) => html`<label class="field"><span>${label}</span>
            <select value=${draft[k] ?? ''} onChange=${(e) => setDraft({ ...draft, [k]: e.target.value })}>
              ${options.map((o) => html`<option value=${o}>${o || 'any'}</option>`)}
            </select></label>`,
        )}
        <div class="form-actions">
          <button class="btn primary" type="submit">Apply</button>
          <button class="btn ghost" type="button" onClick=${() => {
            setDraft({});
            setFilter({});
          }}>Clear</button>
        </div>
      </form>
    </details>
    <section class="toolbar">
      <label class="check"><input type="checkbox" checked=${live} onChange=${(e) => setLive(e.target.checked)} /> Live</label>
      <span class="form-actions">
        <a class="btn" data-native href=${`/api/monitor/export?format=csv${query ? `&${query}` : ''}`}>Export CSV</a>
        <a class="btn" data-native href=${`/api/monitor/export?format=jsonl${query ? `&${query}` : ''}`}>Export JSONL</a>
      </span>
    </section>
    <${MonitorCharts} data=${series.data} error=${series.error} range=${range} setRange=${setRange} hasTime=${hasTime} />
    <section class="panel"><h2>Account overview</h2><${RowsTable} rows=${firstArray(accounts.data)} label="Accounts" keyColumn=${accountKeyColumn(byIndex)} columns=${GROUP_COLUMNS} /></section>
    <section class="panel"><h2>API key summary</h2><${RowsTable} rows=${firstArray(keys.data)} label="API keys" keyLabel="API key" columns=${GROUP_COLUMNS} /></section>
    <section class="panel"><h2>Realtime requests</h2><${RowsTable} rows=${firstArray(requests.data)} label="Requests" columns=${REQUEST_COLUMNS} /></section>
  `;
}
