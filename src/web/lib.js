// Shared helpers for the dashboard pages: API calls with the CSRF token, live data via SSE,
// formatting, and the small components every page uses (status badge, quota bar, countdown).
import htm from 'htm';
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export const html = htm.bind(h);

/** Client-side navigation between the dashboard's pages. */
export function navigate(to) {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch() for the JSON API: sends the CSRF token on writes, turns error answers into ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    throw new ApiError(401, 'please log in');
  }
  const data = res.headers.get('content-type')?.includes('application/json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data?.error ?? `${res.status} ${res.statusText}`);
  return data;
}

// One EventSource for the whole page; listeners subscribe by event type.
const listeners = new Set();
let source = null;
const connection = { state: 'connecting', listeners: new Set() };

function setConnection(state) {
  connection.state = state;
  for (const l of connection.listeners) l(state);
}

export function startLiveUpdates() {
  if (source) return;
  source = new EventSource('/api/events');
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('error', () => setConnection(source.readyState === 2 ? 'offline' : 'reconnecting'));
  source.addEventListener('hello', () => setConnection('live'));
  for (const type of [
    'accounts',
    'refresh',
    'inspection',
    'actions',
    'audit',
    'schedule',
    'settings',
    'auth-files',
    'monitor',
  ]) {
    source.addEventListener(type, (e) => {
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch {}
      for (const l of listeners) l(type, data);
    });
  }
}

export function useConnection() {
  const [state, setState] = useState(connection.state);
  useEffect(() => {
    connection.listeners.add(setState);
    // The stream may have opened between the first render and this effect (a loaded machine): catch up,
    // or the indicator would say "Connecting…" until the next change.
    setState(connection.state);
    return () => connection.listeners.delete(setState);
  }, []);
  return state;
}

/** Subscribes to live events of the given types. */
export function useLive(types, onEvent) {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    const l = (type, data) => {
      if (types.includes(type)) ref.current(type, data);
    };
    listeners.add(l);
    return () => listeners.delete(l);
  }, [types.join(',')]);
}

/**
 * Loads a JSON resource and re-loads it when one of the live event types arrives (coalesced, so a
 * burst of per-account events costs one request).
 */
export function useResource(path, liveTypes = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const timer = useRef(null);
  const current = useRef(path);
  current.current = path;
  // Always loads the path shown now; an answer for a path left meanwhile is dropped.
  const load = () => {
    const p = current.current;
    return api(p).then(
      (data) => p === current.current && setState({ data, error: null, loading: false }),
      (error) => p === current.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  };
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    load();
  }, [path]);
  useLive(liveTypes, () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      load();
    }, 250);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  return { ...state, reload: load };
}

/** The current time, ticking once a second, shared by every countdown on the page. */
const tickers = new Set();
setInterval(() => {
  const now = Date.now();
  for (const t of tickers) t(now);
}, 1000);
export function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    tickers.add(setNow);
    return () => tickers.delete(setNow);
  }, []);
  return now;
}

export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return 'unknown';
  let s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Like formatDuration, with seconds under a day so a countdown visibly ticks. */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400 || s < 3600) return formatDuration(s);
  return `${formatDuration(s)} ${String(s % 60).padStart(2, '0')}s`;
}

export function timeAgo(t, now = Date.now()) {
  if (t == null) return 'never';
  const s = Math.round((now - new Date(t).getTime()) / 1000);
  if (s < 5) return 'just now';
  return `${formatDuration(s)} ago`;
}

/** A time as the reader's locale shows it; takes ISO strings and epoch milliseconds. */
export function formatTime(t) {
  if (t == null || t === '') return '—';
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const STATUS_LABELS = {
  healthy: 'Healthy',
  warning: 'Warning',
  'rate-limited': 'Rate-limited',
  disabled: 'Disabled',
  error: 'Error',
  unknown: 'Unknown',
};

export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${STATUS_LABELS[status] ?? status}</span>`;
}

/** Live countdown to an ISO time; "now" once it has passed. */
export function Countdown({ to, prefix = '' }) {
  const now = useNow();
  if (to == null) return html`<span class="muted">unknown</span>`;
  const left = (new Date(to).getTime() - now) / 1000;
  return html`<span class="countdown" data-countdown=${to} title=${formatTime(to)}
    >${prefix}${left <= 0 ? 'now' : formatCountdown(left)}</span
  >`;
}

const WINDOW_LABELS = { '5h': '5-hour', weekly: 'Weekly', monthly: 'Monthly', other: 'Other' };

export function QuotaBar({ window: w }) {
  const remaining = w.remainingPercent;
  const level = remaining == null ? 'unknown' : remaining <= 10 ? 'low' : remaining <= 30 ? 'mid' : 'ok';
  const label =
    w.scope === 'spend_control' ? `Spend budget (${w.limitName})` : (w.limitName ?? WINDOW_LABELS[w.kind] ?? w.kind);
  return html`<div class="quota">
    <div class="quota-head">
      <span class="quota-label">${label}</span>
      <span class="quota-value">${remaining == null ? 'unknown' : `${Math.round(remaining)}% left`}</span>
    </div>
    <div class="bar" role="meter" aria-label=${`${label} quota remaining`} aria-valuemin="0" aria-valuemax="100"
      aria-valuenow=${remaining ?? undefined}>
      <div class=${`bar-fill level-${level}`} style=${{ width: `${remaining == null ? 0 : Math.max(0, Math.min(100, remaining))}%` }}></div>
    </div>
    <div class="quota-reset">resets in <${Countdown} to=${w.resetsAt} /></div>
  </div>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="form-error" role="alert">${error.message}</p>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/** A button that runs an async action, disables itself meanwhile and reports failures. */
export function ActionButton({ onClick, children, kind = '', label, confirm: question }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(null);
    try {
      await onClick();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action-wrap"
    ><button type="button" class=${`btn ${kind}`} onClick=${run} disabled=${busy} aria-busy=${busy} aria-label=${label}>
      ${busy ? 'Working…' : children}
    </button>
    ${error ? html`<span class="inline-error" role="alert">${error.message}</span>` : null}</span
  >`;
}

const EVIDENCE_KNOWN = new Set([
  'httpStatus',
  'probeReason',
  'errorCode',
  'limitReached',
  'windows',
  'resetsAt',
  'tokenExpiresAt',
  'source',
  'transient',
  'message',
  'requests',
]);

/** Issue 20: the request outcomes an inspection result carries, as two readable chips. */
function requestChips(r) {
  if (!r) return [];
  const byStatus = Object.entries(r.lastHour?.failuresByStatus ?? {})
    .map(([s, n]) => `${s} ×${n}`)
    .join(', ');
  return [
    [
      'requests 1 h',
      `${r.lastHour?.requests ?? 0} req · ${r.lastHour?.failures ?? 0} failed${byStatus ? ` (${byStatus})` : ''}`,
    ],
    [
      'requests disagree',
      r.disagreement
        ? `${r.disagreement.summary}${r.disagreement.reprobeState ? ` · re-probe: ${r.disagreement.reprobeState}` : ''}`
        : null,
    ],
  ];
}

/**
 * Evidence as chips (Inspection and Actions): the inspection fields in a fixed order, any other field
 * as key/value; unknown (null) stays visibly unknown only for the fields a decision needs.
 */
export function EvidenceChips({ evidence, missing }) {
  const e = evidence ?? {};
  const chips = [
    ['HTTP', e.httpStatus],
    ['reason', e.probeReason],
    ['code', e.errorCode],
    ['limit reached', e.limitReached],
    ...(Array.isArray(e.windows) ? e.windows : []).map((w) => [
      w.limitName ?? w.kind,
      w.usedPercent == null ? null : `${w.usedPercent}% used`,
    ]),
    ['resets', e.resetsAt ? formatTime(e.resetsAt) : null],
    ['token expires', e.tokenExpiresAt ? formatTime(e.tokenExpiresAt) : null],
    ['source', e.source],
    ...requestChips(e.requests),
    ...Object.entries(e)
      .filter(([k]) => !EVIDENCE_KNOWN.has(k))
      .map(([k, v]) => [
        k,
        v === null
          ? 'unknown'
          : typeof v === 'object'
            ? JSON.stringify(v)
            : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)
              ? formatTime(v)
              : v,
      ]),
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (chips.length === 0 && !e.message && !e.transient) return html`<span class="muted">—</span>`;
  return html`<ul class="evidence">
      ${chips.map(([k, v]) => html`<li><span class="ev-key">${k}</span><span class="ev-val">${String(v)}</span></li>`)}
      ${e.transient ? html`<li><span class="ev-key">transient</span><span class="ev-val">says nothing about the account</span></li>` : null}
    </ul>
    ${e.message ? html`<div class="muted small">${e.message}</div>` : null}
    ${missing?.length ? html`<div class="muted small">unknown: ${missing.join(', ')}</div>` : null}`;
}
