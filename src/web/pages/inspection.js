// Inspection: run now, results grouped by suggested action with reason and evidence, run history
// with logs, and the schedule editor.
import { useEffect, useState } from 'preact/hooks';
import { api, Empty, ErrorNote, EvidenceChips, formatTime, html, useResource } from '../lib.js';

const ACTION_ORDER = ['Delete', 'Reauth', 'Disable', 'Enable', 'Keep'];
const cls = (action) => `pill action-${action.toLowerCase()}`;

/** The fields a decision was taken from (InspectionEvidence): the shared chips. */
function Evidence({ result }) {
  return html`<${EvidenceChips} evidence=${result.evidence} missing=${result.missing} />`;
}

function Counts({ counts }) {
  return html`<span class="counts">
    ${ACTION_ORDER.filter((a) => counts?.[a]).map((a) => html`<span class=${cls(a)}>${a} ${counts[a]}</span>`)}
  </span>`;
}

function RunResults({ run }) {
  const groups = ACTION_ORDER.map((action) => ({
    action,
    results: (run.results ?? []).filter((r) => r.action === action),
  })).filter((g) => g.results.length > 0);
  return html`<div class="run-results">
    ${groups.map(
      (g) => html`<section class="group" data-action=${g.action} aria-label=${`${g.action} (${g.results.length})`}>
        <details open=${g.action !== 'Keep'}>
        <summary><h3><span class=${cls(g.action)}>${g.action}</span> ${g.results.length} account${g.results.length === 1 ? '' : 's'}${g.action === 'Keep' ? html` <span class="muted small">(nothing to do)</span>` : null}</h3></summary>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Account</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Evidence</th></tr></thead>
            <tbody>
              ${g.results.map(
                (r) => html`<tr>
                  <td data-label="Account"><strong>${r.accountName}</strong><div class="muted small">${r.evidence?.plan ?? 'plan unknown'}${r.disabled ? ' · disabled' : ''}</div></td>
                  <td data-label="State"><span class=${`badge state-${r.state}`}>${r.state.replace(/_/g, ' ')}</span></td>
                  <td data-label="Reason">${r.reason}</td>
                  <td data-label="Evidence"><${Evidence} result=${r} /></td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
        </details>
      </section>`,
    )}
    ${run.log?.length ? html`<details class="log"><summary>Run log (${run.log.length} lines)</summary><pre>${run.log.join('\n')}</pre></details>` : null}
  </div>`;
}

function ScheduleEditor() {
  const res = useResource('/api/schedule', ['schedule']);
  const [form, setForm] = useState(null);
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (res.data && !form) {
      const s = res.data.schedule;
      setForm({
        retentionDays: s.retentionDays,
        spreadSeconds: s.spreadSeconds,
        mode: s.mode,
        intervalMinutes: s.intervalMinutes ?? 60,
        dailyTimes: s.dailyTimes.join(', '),
        timeZone: s.timeZone,
      });
    }
  }, [res.data]);
  if (!form) return html`<p class="muted">Loading schedule…</p>`;
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setMsg(null);
    try {
      const times = form.dailyTimes.split(/[\s,]+/).filter(Boolean);
      await api('/api/schedule', {
        method: 'PUT',
        body: {
          mode: form.mode,
          intervalMinutes: form.mode === 'interval' ? Number(form.intervalMinutes) : null,
          dailyTimes: form.mode === 'daily' ? times : [],
          timeZone: form.timeZone,
          retentionDays: Number(form.retentionDays),
          spreadSeconds: Number(form.spreadSeconds),
        },
      });
      setMsg('Schedule saved.');
      res.reload();
    } catch (err) {
      setError(err);
    }
  };
  const s = res.data?.schedule;
  return html`<form class="form" onSubmit=${save}>
    <fieldset>
      <legend>Server inspection schedule</legend>
      <div class="radio-row">
        ${['off', 'interval', 'daily'].map(
          (m) =>
            html`<label><input type="radio" name="mode" value=${m} checked=${form.mode === m} onChange=${set('mode')} /> ${
              { off: 'Off', interval: 'Every N minutes', daily: 'Daily at' }[m]
            }</label>`,
        )}
      </div>
      ${form.mode === 'interval' ? html`<label class="field"><span>Interval (minutes)</span><input type="number" min="5" max="10080" value=${form.intervalMinutes} onInput=${set('intervalMinutes')} /></label>` : null}
      ${form.mode === 'daily' ? html`<label class="field"><span>Times (HH:MM, comma separated)</span><input value=${form.dailyTimes} onInput=${set('dailyTimes')} placeholder="08:00, 20:00" /></label>` : null}
      <div class="grid-3">
        <label class="field"><span>Keep runs (days)</span><input type="number" min="1" max="3650" value=${form.retentionDays} onInput=${set('retentionDays')} /></label>
        <label class="field"><span>Spread probes over (s)</span><input type="number" min="0" max="3600" value=${form.spreadSeconds} onInput=${set('spreadSeconds')} /></label>
      </div>
      <label class="field"><span>Time zone</span><input value=${form.timeZone} onInput=${set('timeZone')} placeholder="UTC" /></label>
      <p class="muted small">Next run: ${s?.nextRunAt ? formatTime(s.nextRunAt) : 'not scheduled'}</p>
      <${ErrorNote} error=${error} />
      ${msg ? html`<p class="form-ok" role="status">${msg}</p>` : null}
      <button class="btn primary" type="submit">Save schedule</button>
    </fieldset>
  </form>`;
}

export function InspectionPage() {
  const runs = useResource('/api/inspections?limit=20', ['inspection']);
  const [selected, setSelected] = useState(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState(null);
  const list = runs.data?.runs ?? [];
  const currentId = selected ?? list[0]?.id ?? null;
  const current = useResource(
    currentId ? `/api/inspections/${encodeURIComponent(currentId)}` : '/api/inspections?limit=1',
    ['inspection'],
  );
  const run = currentId ? current.data?.run : null;
  const runNow = async () => {
    setRunning(true);
    setError(null);
    try {
      const r = await api('/api/inspections', { method: 'POST' });
      setSelected(r.run.id);
      runs.reload();
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  };
  return html`
    <section class="toolbar">
      <p class="muted">Probes every account and suggests Keep, Reauth, Disable, Enable or Delete, with the evidence behind it.</p>
      <button type="button" class="btn primary" onClick=${runNow} disabled=${running}>${running ? 'Inspecting…' : 'Run inspection now'}</button>
    </section>
    <${ErrorNote} error=${error ?? runs.error} />
    <section class="panel">
      <h2>${run ? html`Results of ${formatTime(run.startedAt)} <span class="muted small">(${run.trigger}, ${run.status})</span>` : 'Results'}</h2>
      ${run ? html`<${RunResults} run=${run} />` : html`<${Empty}>No inspection has run yet. Run one now.<//>`}
    </section>
    <div class="panels">
      <section class="panel">
        <h2>History</h2>
        ${
          list.length === 0
            ? html`<${Empty}>No runs yet.<//>`
            : html`<ul class="history">
                ${list.map(
                  (r) => html`<li>
                    <button type="button" class=${`history-item ${r.id === currentId ? 'selected' : ''}`} aria-pressed=${r.id === currentId}
                      onClick=${() => setSelected(r.id)}>
                      <span>${formatTime(r.startedAt)}</span>
                      <span class="muted small">${r.trigger} · ${r.status}</span>
                      <${Counts} counts=${r.counts} />
                    </button>
                  </li>`,
                )}
              </ul>`
        }
      </section>
      <section class="panel"><h2>Schedule</h2><${ScheduleEditor} /></section>
    </div>
  `;
}
