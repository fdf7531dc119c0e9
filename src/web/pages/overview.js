// Overview: pool cards (healthy / rate-limited / error…), when capacity returns, and who needs attention.
import { api, Countdown, Empty, ErrorNote, html, StatusBadge, timeAgo, useNow, useResource } from '../lib.js';

const CARDS = [
  { key: 'healthy', label: 'Healthy', hint: 'can serve requests now' },
  { key: 'warning', label: 'Warning', hint: 'below a threshold' },
  { key: 'rate-limited', label: 'Rate-limited', hint: 'quota exhausted until reset' },
  { key: 'error', label: 'Error', hint: 'needs reauth or removal' },
  { key: 'disabled', label: 'Disabled', hint: 'kept out of rotation' },
  { key: 'unknown', label: 'Unknown', hint: 'not checked successfully yet' },
];

const pct = (v) => (v == null ? '—' : `${Math.round(v)}%`);

export function OverviewPage() {
  const pool = useResource('/api/pool', ['accounts', 'refresh', 'actions']);
  const accounts = useResource('/api/accounts', ['accounts', 'refresh', 'actions']);
  const forecast = useResource('/api/forecast', ['accounts', 'refresh']);
  const now = useNow();
  const p = pool.data?.pool;
  const refreshing = pool.data?.refreshing || p?.refreshing;
  const attention = (accounts.data?.accounts ?? []).filter((a) => a.status === 'rate-limited' || a.status === 'error');
  const refreshAll = async () => {
    await api('/api/refresh', { method: 'POST' });
    pool.reload();
  };
  return html`
    <${ErrorNote} error=${pool.error} />
    <section class="toolbar">
      <p class="muted">
        ${p ? html`${p.total} accounts · last refresh ${timeAgo(p.lastRefreshAt, now)}` : 'Loading…'}
        ${refreshing ? html` · <span class="pulse">refreshing…</span>` : null}
      </p>
      <button type="button" class="btn primary" onClick=${refreshAll} disabled=${refreshing}>
        ${refreshing ? 'Refreshing…' : 'Refresh all'}
      </button>
    </section>
    <section class="cards" aria-label="Pool">
      ${CARDS.map(
        (c) => html`<a class=${`card card-${c.key}`} href=${`/accounts?status=${c.key}`} data-testid=${`pool-${c.key}`}>
          <span class="card-label">${c.label}</span>
          <span class="card-value">${p ? p.counts[c.key] : '–'}</span>
          <span class="card-hint">${c.hint}</span>
        </a>`,
      )}
    </section>
    <section class="panels">
      <div class="panel">
        <h2>Capacity</h2>
        <dl class="facts">
          <div><dt>Capacity returns in</dt><dd data-testid="capacity-returns">${p?.nextCapacityAt ? html`<${Countdown} to=${p.nextCapacityAt} />` : html`<span class="muted">no account is waiting for a reset</span>`}</dd></div>
          <div><dt>5-hour remaining (mean)</dt><dd>${pct(p?.remainingPercent?.['5h'])}</dd></div>
          <div><dt>Weekly remaining (mean)</dt><dd>${pct(p?.remainingPercent?.weekly)}</dd></div>
          ${p?.remainingPercent?.monthly != null ? html`<div><dt>Monthly remaining (mean)</dt><dd>${pct(p.remainingPercent.monthly)}</dd></div>` : null}
          <div><dt>Forecast</dt><dd>${forecast.data?.pool?.note ?? '—'}</dd></div>
        </dl>
      </div>
      <div class="panel">
        <h2>Needs attention</h2>
        ${
          attention.length === 0
            ? html`<${Empty}>Every account is serving or intentionally disabled.<//>`
            : html`<ul class="attention">
                ${attention.map(
                  (a) => html`<li>
                    <span class="name">${a.name}</span>
                    <${StatusBadge} status=${a.status} />
                    <span class="muted small">${a.capacityReturnsAt ? html`back in <${Countdown} to=${a.capacityReturnsAt} />` : (a.message ?? a.reason ?? '')}</span>
                  </li>`,
                )}
              </ul>`
        }
      </div>
    </section>
  `;
}
