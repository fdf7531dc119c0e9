// Accounts: cards (quota bars per window with live countdowns) or a sortable table for hundreds of
// accounts (the choice remembered per browser), return times of rate-limited accounts, sign-in
// hints, one-click refresh / enable / disable, and each account's quota history chart.
import { useState } from 'preact/hooks';
import { RangePicker, TimeChart, useSeries } from '../chart.js';
import {
  ActionButton,
  api,
  Countdown,
  Empty,
  ErrorNote,
  html,
  navigate,
  QuotaBar,
  STATUS_LABELS,
  StatusBadge,
  timeAgo,
  useNow,
  useResource,
} from '../lib.js';

const AUTH_REASONS = new Set(['access_token_expired', 'auth_invalid', 'refresh_token_dead', 'no_credentials']);

/** What the operator does for an account that cannot sign in. */
export function signInHint(a) {
  if (!AUTH_REASONS.has(a.reason ?? '')) return null;
  return a.sourceKind === 'cpa'
    ? 'Sign in again through CPA (its OAuth login for this account), then Refresh.'
    : 'Sign in again: run `codex login` for this account (or replace its tokens on the Auth files page), then Refresh.';
}

/** When a rate-limited account serves again: the API's capacityReturnsAt, else what is known. */
export function ReturnTime({ account: a }) {
  if (a.status !== 'rate-limited') return null;
  return a.capacityReturnsAt
    ? html`<span class="return-time" data-testid="return-time">back in <${Countdown} to=${a.capacityReturnsAt} /></span>`
    : html`<span class="return-time muted" data-testid="return-time">return time unknown: upstream sent no reset</span>`;
}

/** Remaining % per window over time, with reset markers and the forecast's projection. */
export function AccountHistory({ account }) {
  const [range, setRange] = useState('7d');
  const s = useSeries(`/api/series/accounts/${encodeURIComponent(account.id)}?range=${range}`, ['accounts']);
  const d = s.data;
  const kinds = d
    ? ['5h', 'weekly', 'monthly'].filter(
        (k) => d.remaining[k].some((v) => v != null) || d.projections.some((p) => p.kind === k),
      )
    : [];
  const label = { '5h': '5-hour', weekly: 'Weekly', monthly: 'Monthly' };
  const markers = d
    ? [
        // 5-hour resets only on short ranges: over a week they would be a comb of lines.
        ...d.resets
          .filter((r) => r.kind !== '5h' || range === '1h' || range === '6h' || range === '24h')
          .map((r) => ({ at: r.at, kind: 'reset' })),
        ...(d.runsOutAt
          ? [{ at: d.runsOutAt, kind: 'runout', label: `runs out ${new Date(d.runsOutAt).toLocaleString()}` }]
          : []),
      ]
    : [];
  return html`<div class="history">
    <${RangePicker} value=${range} onChange=${setRange} label=${`History range for ${account.name}`} />
    ${s.error ? html`<p class="form-error">${s.error.message}</p>` : null}
    ${
      d
        ? html`<${TimeChart} title=${`${account.name}: remaining % per window`} testid="account-chart" t=${d.t}
          yRange=${[0, 100]} yLabel="% left" format=${(v) => `${Math.round(v)}%`}
          series=${kinds.map((k) => ({ label: label[k], values: d.remaining[k] }))}
          lines=${d.projections.filter((p) => p.points.length > 1).map((p) => ({ label: `${label[p.kind]} forecast`, points: p.points, colour: undefined }))}
          markers=${markers} />`
        : html`<p class="muted small">Loading history…</p>`
    }
  </div>`;
}

/** "12 req · 3 failed (429 ×3)": an hour's requests through CPA, the failures by status. */
export function requestLine(span) {
  if (!span || span.requests === 0) return 'no requests';
  const statuses = Object.entries(span.failuresByStatus ?? {})
    .sort((x, y) => y[1] - x[1])
    .map(([s, n]) => `${s} ×${n}`)
    .join(', ');
  return `${span.requests} req · ${span.failures} failed${statuses ? ` (${statuses})` : ''}`;
}

/** What requests through CPA said about the account (last hour, 24 h), beside the probe's answer. */
function RequestOutcomes({ account: a }) {
  const r = a.requests;
  if (!r) return null;
  const cost = r.last24h.costUsd == null ? '' : ` · $${r.last24h.costUsd.toFixed(2)}`;
  return html`<div class="requests small" data-testid="account-requests">
    <p><strong>Requests</strong> last hour: <span data-testid="requests-hour">${requestLine(r.lastHour)}</span></p>
    <p class="muted">24 h: ${requestLine(r.last24h)} · ${r.last24h.tokens.toLocaleString()} tokens${cost}</p>
    ${r.lastFailure ? html`<p class="muted" data-testid="last-failure">last failure ${r.lastFailure.status} ${r.lastFailure.failureType ?? ''}${r.lastFailure.message ? `: ${r.lastFailure.message}` : ''}</p>` : null}
    ${
      r.disagreement
        ? html`<p class="bad" data-testid="disagreement">Requests disagree with the probe: ${r.disagreement.summary}${
            r.disagreement.reprobedAt
              ? ` · re-probed: ${r.disagreement.reprobeState ?? 'unknown'}`
              : ' · re-probe pending'
          }</p>`
        : null
    }
    <p><a href=${`/monitoring?account=${encodeURIComponent(r.authIndex)}`}>Requests in Monitoring</a></p>
  </div>`;
}

/** The paid plan's end: a lapsing term is worth attention, a renewing one is just a date. */
function PlanEnd({ account: a }) {
  if (!a.planEndsAt) return html`<span class="muted">—</span>`;
  const day = a.planEndsAt.slice(0, 10);
  return a.planWillRenew
    ? html`<span data-testid="plan-end">renews ${day}</span>`
    : html`<span class="bad" data-testid="plan-end">ends ${day}, does not renew</span>`;
}

function AccountCard({ account: a, now, onChanged, showHistory = false }) {
  const [history, setHistory] = useState(showHistory);
  const hint = signInHint(a);
  const act = (verb) => async () => {
    await api(`/api/accounts/${encodeURIComponent(a.id)}/${verb}`, { method: 'POST' });
    onChanged();
  };
  return html`<article class="account" data-account=${a.name} aria-labelledby=${`acct-${a.id}`}>
    <header class="account-head">
      <div>
        <h2 id=${`acct-${a.id}`} class="account-name">${a.name}</h2>
        <p class="muted small">${a.email ?? 'no email'}${a.workspaceId ? html` · workspace <span class="mono">${a.workspaceId}</span>` : null}</p>
      </div>
      <${StatusBadge} status=${a.status} />
    </header>
    <dl class="account-facts">
      <div><dt>Plan</dt><dd>${a.plan ?? 'unknown'}</dd></div>
      <div><dt>Plan term</dt><dd><${PlanEnd} account=${a} /></dd></div>
      <div><dt>State</dt><dd>${a.state ?? 'unknown'}${a.reason && a.reason !== 'quota_available' ? html` <span class="muted">(${a.reason})</span>` : null}</dd></div>
      <div><dt>Source</dt><dd>${a.source ?? '—'} · ${a.sourceKind}</dd></div>
      <div><dt>Last check</dt><dd>${a.refreshing ? html`<span class="pulse">checking…</span>` : timeAgo(a.lastCheckedAt, now)}${a.stale ? html` <span class="pill" title="the latest probe failed transiently; showing the last good data">stale</span>` : null}</dd></div>
    </dl>
    ${a.message ? html`<p class=${`account-message ${a.status === 'error' || a.status === 'rate-limited' ? 'bad' : ''}`}>${a.message}</p>` : null}
    ${a.status === 'rate-limited' ? html`<p class="small"><${ReturnTime} account=${a} /></p>` : null}
    ${hint ? html`<p class="hint small" data-testid="sign-in-hint">${hint}</p>` : null}
    <div class="quotas">
      ${
        a.windows.length === 0
          ? html`<p class="muted small">${
              a.reason === 'no_rate_limit_windows'
                ? 'No rate-limit windows apply.'
                : a.status === 'rate-limited'
                  ? 'Rate-limited (429): the upstream sent no quota windows.'
                  : 'No quota windows known.'
            }</p>`
          : a.windows.map((w) => html`<${QuotaBar} window=${w} />`)
      }
    </div>
    <${RequestOutcomes} account=${a} />
    ${history ? html`<${AccountHistory} account=${a} />` : null}
    <footer class="account-actions">
      <button type="button" class="btn ghost" aria-expanded=${history} onClick=${() => setHistory(!history)}
        aria-label=${`History of ${a.name}`}>${history ? 'Hide history' : 'History'}</button>
      <${ActionButton} onClick=${act('refresh')} label=${`Refresh ${a.name}`}>Refresh<//>
      ${
        a.disabled
          ? html`<${ActionButton} kind="primary" onClick=${act('enable')} label=${`Enable ${a.name}`}>Enable<//>`
          : html`<${ActionButton} kind="danger-outline" onClick=${act('disable')} label=${`Disable ${a.name}`}>Disable<//>`
      }
    </footer>
  </article>`;
}

const WINDOW_ORDER = ['5h', 'weekly', 'monthly'];

/** The main window with the least left (the one that decides whether the account can serve). */
export function tightest(a) {
  let best = null;
  for (const w of a.windows) {
    if (!WINDOW_ORDER.includes(w.kind) || w.remainingPercent == null || w.limitName) continue;
    if (!best || w.remainingPercent < best.remainingPercent) best = w;
  }
  return best;
}

const COLUMNS = [
  ['name', 'Account', (a) => a.name.toLowerCase()],
  ['status', 'Status', (a) => a.status],
  ['plan', 'Plan', (a) => a.plan ?? '~'],
  ['planEnds', 'Plan term', (a) => a.planEndsAt ?? '~'],
  ['source', 'Source', (a) => a.sourceKind],
  ['tightest', 'Tightest window', (a) => tightest(a)?.remainingPercent ?? 1000],
  ['reset', 'Reset / return', (a) => a.capacityReturnsAt ?? tightest(a)?.resetsAt ?? '~'],
  ['checked', 'Last check', (a) => a.lastCheckedAt ?? ''],
  ['requests', 'Requests (1 h)', (a) => -(a.requests?.lastHour.failures ?? -1)],
];

function AccountsTable({ accounts, now, onChanged, sort, setSort }) {
  const [open, setOpen] = useState(null);
  const col = COLUMNS.find((c) => c[0] === sort.key) ?? COLUMNS[0];
  const rows = [...accounts].sort((x, y) => {
    const a = col[2](x);
    const b = col[2](y);
    return (a < b ? -1 : a > b ? 1 : 0) * sort.dir;
  });
  const by = (key) => setSort((s) => ({ key, dir: s.key === key ? -s.dir : 1 }));
  const act = (a, verb) => async () => {
    await api(`/api/accounts/${encodeURIComponent(a.id)}/${verb}`, { method: 'POST' });
    onChanged();
  };
  return html`<div class="table-wrap accounts-table-wrap"><table class="accounts-table" data-testid="accounts-table" aria-label="Accounts">
    <thead><tr>${COLUMNS.map(
      ([
        key,
        label,
      ]) => html`<th scope="col" aria-sort=${sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none'}>
        <button type="button" class="sort" onClick=${() => by(key)}>${label}${sort.key === key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</button></th>`,
    )}<th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${rows.map((a) => {
      const w = tightest(a);
      const hint = signInHint(a);
      return html`<tr key=${a.id} data-account=${a.name}>
        <td data-label="Account"><span class="name">${a.name}</span>${a.email ? html`<br /><span class="muted small">${a.email}</span>` : null}
          ${hint ? html`<br /><span class="hint small" data-testid="sign-in-hint">${hint}</span>` : null}</td>
        <td data-label="Status"><${StatusBadge} status=${a.status} /></td>
        <td data-label="Plan">${a.plan ?? 'unknown'}</td>
        <td data-label="Plan term"><${PlanEnd} account=${a} /></td>
        <td data-label="Source">${a.sourceKind}</td>
        <td data-label="Tightest window">${w ? `${Math.round(w.remainingPercent)}% ${w.kind}` : '—'}</td>
        <td data-label="Reset / return">${a.status === 'rate-limited' ? html`<${ReturnTime} account=${a} />` : w?.resetsAt ? html`<${Countdown} to=${w.resetsAt} />` : '—'}</td>
        <td data-label="Last check">${a.refreshing ? html`<span class="pulse">checking…</span>` : timeAgo(a.lastCheckedAt, now)}</td>
        <td data-label="Requests (1 h)" data-testid="requests-cell">${a.requests ? requestLine(a.requests.lastHour) : '—'}${
          a.requests?.disagreement
            ? html`<br /><span class="bad small" title=${a.requests.disagreement.summary}>disagrees with probe</span>`
            : null
        }</td>
        <td class="row-actions">
          <button type="button" class="btn small ghost" aria-expanded=${open === a.id} onClick=${() => setOpen(open === a.id ? null : a.id)}
            aria-label=${`History of ${a.name}`}>History</button>
          <${ActionButton} kind="small" onClick=${act(a, 'refresh')} label=${`Refresh ${a.name}`}>Refresh<//>
        </td>
      </tr>
      ${open === a.id ? html`<tr class="history-row" key=${`${a.id}-history`}><td colspan=${COLUMNS.length + 1}><${AccountHistory} account=${a} /></td></tr>` : null}`;
    })}</tbody>
  </table></div>`;
}

const VIEW_KEY = 'codex-fleet.accounts.view';
function useView() {
  const [view, setView] = useState(() => {
    try {
      return localStorage.getItem(VIEW_KEY) === 'table' ? 'table' : 'cards';
    } catch {
      return 'cards';
    }
  });
  const set = (v) => {
    setView(v);
    try {
      localStorage.setItem(VIEW_KEY, v);
    } catch {}
  };
  return [view, set];
}

/** Sort choice for phones, where the table's header row is folded away. */
function SortSelect({ sort, setSort }) {
  return html`<label class="field inline sort-select">
    <span>Sort</span>
    <select value=${`${sort.key}:${sort.dir}`} onChange=${(e) => {
      const [key, dir] = e.target.value.split(':');
      setSort({ key, dir: Number(dir) });
    }}>
      ${COLUMNS.flatMap(([key, label]) => [
        html`<option value=${`${key}:1`}>${label} ▲</option>`,
        html`<option value=${`${key}:-1`}>${label} ▼</option>`,
      ])}
    </select>
  </label>`;
}

export function AccountsPage({ search }) {
  const [view, setView] = useView();
  const [sort, setSort] = useState({ key: 'tightest', dir: 1 });
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? '';
  // `?account=<id>` (from Monitoring's Account Overview): that account alone, its history open.
  const only = params.get('account') ?? '';
  const [query, setQuery] = useState('');
  const res = useResource('/api/accounts', ['accounts', 'refresh', 'actions']);
  const now = useNow();
  const all = res.data?.accounts ?? [];
  const q = query.trim().toLowerCase();
  const shown = all.filter(
    (a) =>
      (!only || a.id === only) &&
      (!status || a.status === status) &&
      (!q ||
        a.name.toLowerCase().includes(q) ||
        (a.email ?? '').toLowerCase().includes(q) ||
        (a.plan ?? '').includes(q) ||
        a.sourceKind.includes(q)),
  );
  const setStatus = (s) => navigate(s ? `/accounts?status=${s}` : '/accounts');
  return html`
    <${ErrorNote} error=${res.error} />
    <section class="toolbar">
      <label class="field inline">
        <span>Search</span>
        <input type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} placeholder="name, email, plan or source" />
      </label>
      <label class="field inline">
        <span>Status</span>
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">All (${all.length})</option>
          ${Object.entries(STATUS_LABELS).map(
            ([k, label]) => html`<option value=${k}>${label} (${all.filter((a) => a.status === k).length})</option>`,
          )}
        </select>
      </label>
      <div class="range-picker" role="group" aria-label="View">
        ${['cards', 'table'].map(
          (
            v,
          ) => html`<button type="button" class=${`btn small ${view === v ? 'primary' : 'ghost'}`} aria-pressed=${view === v}
            data-testid=${`view-${v}`} onClick=${() => setView(v)}>${v === 'cards' ? 'Cards' : 'Table'}</button>`,
        )}
      </div>
      <button type="button" class="btn primary" onClick=${() => api('/api/refresh', { method: 'POST' })}>Refresh all</button>
    </section>
    ${
      res.loading && !res.data
        ? html`<p class="muted">Loading accounts…</p>`
        : shown.length === 0
          ? html`<${Empty}>No account matches.<//>`
          : view === 'table'
            ? html`<${SortSelect} sort=${sort} setSort=${setSort} />
              <${AccountsTable} accounts=${shown} now=${now} onChanged=${res.reload} sort=${sort} setSort=${setSort} />`
            : html`<div class="accounts-grid">${shown.map((a) => html`<${AccountCard} key=${a.id} account=${a} now=${now} onChanged=${res.reload} showHistory=${only === a.id} />`)}</div>`
    }
  `;
}
