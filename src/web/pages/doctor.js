// Doctor: `codex-fleet doctor` on demand. It contacts every CPA server and runs the Codex CLI, so it
// runs only when asked; checks are grouped worst first, each with what was found and how to fix it.
import { useRef, useState } from 'preact/hooks';
import { api, Empty, ErrorNote, formatTime, html } from '../lib.js';

const GROUPS = [
  { status: 'failed', title: 'Failed', badge: 'status-error' },
  { status: 'warning', title: 'Warnings', badge: 'status-warning' },
  { status: 'ok', title: 'OK', badge: 'status-healthy' },
];
const BADGE = {
  failed: ['status-error', 'Failed'],
  warning: ['status-warning', 'Warning'],
  ok: ['status-healthy', 'OK'],
  unknown: ['status-unknown', 'Not checked'],
};

function Badge({ status }) {
  const [cls, label] = BADGE[status] ?? BADGE.unknown;
  return html`<span class=${`badge ${cls}`}>${label}</span>`;
}

function Check({ check }) {
  return html`<li class="doctor-check" data-status=${check.status}>
    <div class="doctor-check-head">
      <${Badge} status=${check.status} />
      <code>${check.id}</code>
      ${check.subject ? html`<span class="muted small">${check.subject}</span>` : null}
    </div>
    <p class="doctor-message">${check.message}</p>
    ${check.fix ? html`<p class="doctor-fix"><span class="doctor-fix-label">Fix</span> <code>${check.fix}</code></p>` : null}
  </li>`;
}

function Report({ report }) {
  const groups = GROUPS.map((g) => ({ ...g, checks: report.checks.filter((c) => c.status === g.status) })).filter(
    (g) => g.checks.length > 0,
  );
  return html`
    ${groups.map(
      (g) => html`<section class="panel group" data-status=${g.status} aria-label=${`${g.title} (${g.checks.length})`}>
        <details open=${g.status !== 'ok' || groups.length === 1}>
          <summary><h2><span class=${`badge ${g.badge}`}>${g.title}</span> ${g.checks.length} check${g.checks.length === 1 ? '' : 's'}</h2></summary>
          <ul class="doctor-checks">${g.checks.map((c) => html`<${Check} check=${c} />`)}</ul>
        </details>
      </section>`,
    )}
    <section class="panel">
      <h2>Why the monitoring page could be empty</h2>
      <p class="muted small">Each known cause and what its checks say. <em>Not checked</em>: no CPA server configured, or none answered with its key.</p>
      <ul class="doctor-causes">
        ${report.emptyMonitoring.map(
          (c) => html`<li data-cause=${c.id}>
            <${Badge} status=${c.status} />
            <span>${c.title}</span>
            <span class="muted small">${c.checks.join(', ')}</span>
          </li>`,
        )}
      </ul>
    </section>`;
}

// Kept across page changes: leaving and coming back shows the last run instead of nothing.
let lastReport = null;

export function DoctorPage() {
  const [report, setReport] = useState(lastReport);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState(null);
  const summary = useRef(null);
  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      lastReport = await api('/api/doctor', { method: 'POST' });
      setReport(lastReport);
      summary.current?.focus();
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  };
  const c = report?.counts;
  return html`
    <section class="toolbar">
      <p class="muted">Checks auth files, the action policy, the Codex CLI, every CPA server, the collector and the flow of usage records, and says how to fix what is wrong.</p>
      <button type="button" class="btn primary" onClick=${run} disabled=${running} aria-busy=${running}>${running ? 'Checking…' : 'Run checks'}</button>
    </section>
    <${ErrorNote} error=${error} />
    <div class="doctor-summary" role="status" aria-live="polite" tabindex="-1" ref=${summary}>
      ${
        report
          ? html`<span class="counts">
                <span class="badge status-error">${c.failed} failed</span>
                <span class="badge status-warning">${c.warning} warning${c.warning === 1 ? '' : 's'}</span>
                <span class="badge status-healthy">${c.ok} ok</span>
              </span>
              <span class="muted small">${report.ok ? 'Nothing failed' : 'Something needs fixing'} · checked ${formatTime(report.generatedAt)}</span>`
          : null
      }
    </div>
    ${report ? html`<${Report} report=${report} />` : html`<${Empty}>No checks run yet. <em>Run checks</em> asks every CPA server once and runs <code>codex --version</code>.<//>`}
  `;
}
