// Accounts: quota bars per window with live countdowns, plan, state, source, last check, and
// one-click refresh / enable / disable.
import { useState } from 'preact/hooks';
import {
  ActionButton,
  api,
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

function AccountCard({ account: a, now, onChanged }) {
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
      <div><dt>State</dt><dd>${a.state ?? 'unknown'}${a.reason && a.reason !== 'quota_available' ? html` <span class="muted">(${a.reason})</span>` : null}</dd></div>
      <div><dt>Source</dt><dd>${a.source ?? '—'} · ${a.sourceKind}</dd></div>
      <div><dt>Last check</dt><dd>${a.refreshing ? html`<span class="pulse">checking…</span>` : timeAgo(a.lastCheckedAt, now)}${a.stale ? html` <span class="pill" title="the latest probe failed transiently; showing the last good data">stale</span>` : null}</dd></div>
    </dl>
    ${a.message ? html`<p class=${`account-message ${a.status === 'error' || a.status === 'rate-limited' ? 'bad' : ''}`}>${a.message}</p>` : null}
    <div class="quotas">
      ${a.windows.length === 0 ? html`<p class="muted small">${a.reason === 'no_rate_limit_windows' ? 'No rate-limit windows apply.' : 'No quota windows known.'}</p>` : a.windows.map((w) => html`<${QuotaBar} window=${w} />`)}
    </div>
    <footer class="account-actions">
      <${ActionButton} onClick=${act('refresh')} label=${`Refresh ${a.name}`}>Refresh<//>
      ${
        a.disabled
          ? html`<${ActionButton} kind="primary" onClick=${act('enable')} label=${`Enable ${a.name}`}>Enable<//>`
          : html`<${ActionButton} kind="danger-outline" onClick=${act('disable')} label=${`Disable ${a.name}`}>Disable<//>`
      }
    </footer>
  </article>`;
}

export function AccountsPage({ search }) {
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? '';
  const [query, setQuery] = useState('');
  const res = useResource('/api/accounts', ['accounts', 'refresh', 'actions']);
  const now = useNow();
  const all = res.data?.accounts ?? [];
  const q = query.trim().toLowerCase();
  const shown = all.filter(
    (a) =>
      (!status || a.status === status) &&
      (!q ||
        a.name.toLowerCase().includes(q) ||
        (a.email ?? '').toLowerCase().includes(q) ||
        (a.plan ?? '').includes(q)),
  );
  const setStatus = (s) => navigate(s ? `/accounts?status=${s}` : '/accounts');
  return html`
    <${ErrorNote} error=${res.error} />
    <section class="toolbar">
      <label class="field inline">
        <span>Search</span>
        <input type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} placeholder="name, email or plan" />
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
      <button type="button" class="btn primary" onClick=${() => api('/api/refresh', { method: 'POST' })}>Refresh all</button>
    </section>
    ${
      res.loading && !res.data
        ? html`<p class="muted">Loading accounts…</p>`
        : shown.length === 0
          ? html`<${Empty}>No account matches.<//>`
          : html`<div class="accounts-grid">${shown.map((a) => html`<${AccountCard} key=${a.id} account=${a} now=${now} onChanged=${res.reload} />`)}</div>`
    }
  `;
}
