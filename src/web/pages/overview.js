// Overview: pool cards (healthy / rate-limited / error…), the recommended next account, the pool over
// time with its forecast, when capacity returns (timeline), and who needs attention.
import { useState } from 'preact/hooks';
import { RangePicker, TimeChart, useSeries } from '../chart.js';
import {
  api,
  Countdown,
  Empty,
  ErrorNote,
  formatTime,
  html,
  StatusBadge,
  timeAgo,
  useNow,
  useResource,
} from '../lib.js';

const CARDS = [
  { key: 'healthy', label: 'Healthy', hint: 'can serve requests now' },
  { key: 'warning', label: 'Warning', hint: 'below a threshold' },
  { key: 'rate-limited', label: 'Rate-limited', hint: 'quota exhausted until reset' },
  { key: 'error', label: 'Error', hint: 'needs reauth or removal' },
  { key: 'disabled', label: 'Disabled', hint: 'kept out of rotation' },
  { key: 'unknown', label: 'Unknown', hint: 'not checked successfully yet' },
];

const pct = (v) => (v == null ? '—' : `${Math.round(v)}%`);

/** Usable accounts and mean remaining over time; the forecast's run-out and return as markers. */
function PoolHistory() {
  const [range, setRange] = useState('7d');
  const s = useSeries(`/api/series/pool?range=${range}`, ['accounts', 'refresh']);
  const d = s.data;
  const f = d?.forecast;
  const markers = [];
  if (f?.runsOutAt)
    markers.push({ at: f.runsOutAt, kind: 'runout', label: `pool runs out ${formatTime(f.runsOutAt)}` });
  if (f?.capacityReturnsAt)
    markers.push({
      at: f.capacityReturnsAt,
      kind: 'reset',
      label: `capacity returns ${formatTime(f.capacityReturnsAt)}`,
    });
  // The forecast as a line: usable now, then 0 from the predicted run-out.
  const lines =
    d && f?.runsOutAt
      ? [
          {
            label: 'usable (forecast)',
            points: [
              [d.t.at(-1), f.usableNow],
              [f.runsOutAt, 0],
            ],
          },
        ]
      : [];
  return html`<section class="panel" aria-label="Pool over time">
    <div class="panel-head"><h2>Pool over time</h2><${RangePicker} value=${range} onChange=${setRange} label="Pool history range" /></div>
    ${s.error ? html`<p class="form-error">${s.error.message}</p>` : null}
    ${
      d
        ? html`<div class="chart-grid">
          <${TimeChart} title="Usable accounts" testid="pool-usable-chart" t=${d.t} yLabel="accounts"
            series=${[{ label: 'usable', values: d.usable }, { label: 'checked', values: d.known }]} lines=${lines} markers=${markers} />
          <${TimeChart} title="Mean remaining %" testid="pool-remaining-chart" t=${d.t} yRange=${[0, 100]} yLabel="% left"
            format=${(v) => `${Math.round(v)}%`}
            series=${['5h', 'weekly', 'monthly']
              .filter((k) => d.meanRemaining[k].some((v) => v != null))
              .map((k) => ({ label: k === '5h' ? '5-hour' : k, values: d.meanRemaining[k] }))} />
        </div>
        <p class="muted small" data-testid="pool-forecast-note">${f?.note ?? ''}</p>`
        : html`<p class="muted small">Loading history…</p>`
    }
  </section>`;
}

/** The report's recommendation: which account to use next, and why. */
function Recommendation() {
  const r = useResource('/api/report', ['accounts', 'refresh']);
  const rec = r.data?.recommendation;
  const acct = rec ? r.data.accounts?.[rec.index] : null;
  return html`<div class="panel recommendation" data-testid="recommendation">
    <h2>Use next</h2>
    ${
      rec
        ? html`<p class="rec-name">${rec.email ?? acct?.email ?? `account #${rec.index}`}</p><p class="muted">${rec.reasoning}</p>`
        : html`<p class="muted">${r.data ? 'No account can serve now: nothing to recommend.' : 'Loading…'}</p>`
    }
  </div>`;
}

/** When rate-limited accounts come back, soonest first. */
function CapacityTimeline({ accounts }) {
  const now = useNow();
  const waiting = accounts
    .filter((a) => a.capacityReturnsAt && new Date(a.capacityReturnsAt).getTime() > now - 60_000)
    .sort((a, b) => a.capacityReturnsAt.localeCompare(b.capacityReturnsAt));
  const unknown = accounts.filter((a) => a.status === 'rate-limited' && !a.capacityReturnsAt);
  if (waiting.length === 0 && unknown.length === 0)
    return html`<p class="muted small">No account is waiting for a reset.</p>`;
  const last = waiting.length ? new Date(waiting.at(-1).capacityReturnsAt).getTime() : now;
  const span = Math.max(1, last - now);
  return html`<ol class="timeline" data-testid="capacity-timeline">
    ${waiting.slice(0, 12).map((a) => {
      const at = new Date(a.capacityReturnsAt).getTime();
      const frac = Math.min(1, Math.max(0, (at - now) / span));
      return html`<li><span class="name">${a.name}</span>
        <span class="timeline-bar" aria-hidden="true"><span class="timeline-fill" style=${{ width: `${Math.round(frac * 100)}%` }}></span></span>
        <${Countdown} to=${a.capacityReturnsAt} /></li>`;
    })}
    ${unknown.map((a) => html`<li><span class="name">${a.name}</span><span class="muted small">return time unknown (429 without reset)</span></li>`)}
  </ol>`;
}

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
        <h3>Capacity timeline</h3>
        <${CapacityTimeline} accounts=${accounts.data?.accounts ?? []} />
      </div>
      <${Recommendation} />
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
    <${PoolHistory} />
  `;
}
