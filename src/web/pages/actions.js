// The action queue (approve / reject what inspection or policy suggested) and the audit log.
import { ActionButton, api, Empty, ErrorNote, formatTime, html, useResource } from '../lib.js';

function EvidenceLine({ evidence }) {
  const entries = Object.entries(evidence ?? {});
  return entries.length === 0
    ? html`<span class="muted">—</span>`
    : html`<span class="small">${entries.map(([k, v]) => `${k}=${v === null ? 'unknown' : v}`).join(' · ')}</span>`;
}

export function ActionsPage() {
  const pending = useResource('/api/actions?status=pending', ['actions']);
  const audit = useResource('/api/audit?limit=100', ['audit', 'actions']);
  const decide = (id, decision) => async () => {
    await api(`/api/actions/${encodeURIComponent(id)}/${decision}`, { method: 'POST' });
    pending.reload();
    audit.reload();
  };
  const actions = pending.data?.actions ?? [];
  const entries = audit.data?.entries ?? [];
  return html`
    <section class="panel">
      <h2>Pending actions <span class="muted small">(${actions.length})</span></h2>
      <${ErrorNote} error=${pending.error} />
      ${
        actions.length === 0
          ? html`<${Empty}>Nothing waits for a decision. Inspection runs add suggestions here.<//>`
          : html`<div class="table-wrap"><table data-testid="action-queue">
              <thead><tr><th scope="col">Account</th><th scope="col">Action</th><th scope="col">Reason</th><th scope="col">Evidence</th><th scope="col">Suggested</th><th scope="col"><span class="sr-only">Decision</span></th></tr></thead>
              <tbody>
                ${actions.map(
                  (a) => html`<tr data-action-id=${a.id}>
                    <td data-label="Account"><strong>${a.accountName}</strong></td>
                    <td data-label="Action"><span class=${`pill action-${a.action.toLowerCase()}`}>${a.action}</span></td>
                    <td data-label="Reason">${a.reason}</td>
                    <td data-label="Evidence"><${EvidenceLine} evidence=${a.evidence} /></td>
                    <td data-label="Suggested">${formatTime(a.createdAt)} <span class="muted small">(${a.origin})</span></td>
                    <td class="row-actions">
                      <${ActionButton} kind="primary" onClick=${decide(a.id, 'approve')} label=${`Approve ${a.action} ${a.accountName}`}>Approve<//>
                      <${ActionButton} onClick=${decide(a.id, 'reject')} label=${`Reject ${a.action} ${a.accountName}`}>Reject<//>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table></div>`
      }
    </section>
    <section class="panel">
      <h2>Audit log</h2>
      <${ErrorNote} error=${audit.error} />
      ${
        entries.length === 0
          ? html`<${Empty}>No action has been taken yet.<//>`
          : html`<div class="table-wrap"><table data-testid="audit-log">
              <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Account</th><th scope="col">Why</th><th scope="col">Evidence</th><th scope="col">Result</th></tr></thead>
              <tbody>
                ${entries.map(
                  (e) => html`<tr>
                    <td data-label="When">${formatTime(e.at)}</td>
                    <td data-label="Who">${e.actor}</td>
                    <td data-label="What">${e.action}</td>
                    <td data-label="Account">${e.accountName ?? '—'}</td>
                    <td data-label="Why">${e.reason}</td>
                    <td data-label="Evidence"><${EvidenceLine} evidence=${e.evidence} /></td>
                    <td data-label="Result">${e.result}</td>
                  </tr>`,
                )}
              </tbody>
            </table></div>`
      }
    </section>
  `;
}
