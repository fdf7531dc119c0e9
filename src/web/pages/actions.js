// The action queue (approve / reject what inspection or policy suggested, one by one or a filtered
// selection at once after a confirmation) and the audit log; evidence as the same chips as Inspection.
import { useState } from 'preact/hooks';
import { ActionButton, api, Empty, ErrorNote, EvidenceChips, formatTime, html, useResource } from '../lib.js';

const EvidenceLine = ({ evidence }) => html`<${EvidenceChips} evidence=${evidence} />`;
const KINDS = ['Delete', 'Reauth', 'Disable', 'Enable', 'Keep'];

/** Decides each selected action in turn; the first failure stops and is reported with the count done. */
async function decideAll(ids, decision) {
  let done = 0;
  for (const id of ids) {
    try {
      await api(`/api/actions/${encodeURIComponent(id)}/${decision}`, { method: 'POST' });
      done++;
    } catch (error) {
      throw new Error(
        `${done} of ${ids.length} ${decision === 'approve' ? 'approved' : 'rejected'}; then: ${error.message}`,
      );
    }
  }
}

export function ActionsPage() {
  const [kind, setKind] = useState('');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState(new Set());
  const pending = useResource('/api/actions?status=pending', ['actions']);
  const audit = useResource('/api/audit?limit=100', ['audit', 'actions']);
  const decide = (id, decision) => async () => {
    await api(`/api/actions/${encodeURIComponent(id)}/${decision}`, { method: 'POST' });
    pending.reload();
    audit.reload();
  };
  const all = pending.data?.actions ?? [];
  const q = query.trim().toLowerCase();
  const actions = all.filter(
    (a) =>
      (!kind || a.action === kind) &&
      (!q || a.accountName.toLowerCase().includes(q) || a.reason.toLowerCase().includes(q)),
  );
  // Only what is shown can be selected: a filter change never acts on hidden rows.
  const chosen = actions.filter((a) => selected.has(a.id));
  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const allShown = actions.length > 0 && chosen.length === actions.length;
  const bulk = (decision) => async () => {
    await decideAll(
      chosen.map((a) => a.id),
      decision,
    ).finally(() => {
      setSelected(new Set());
      pending.reload();
      audit.reload();
    });
  };
  const question = (verb) =>
    `${verb} ${chosen.length} action(s)? ${[...new Set(chosen.map((a) => a.action))].join(', ')} for ${chosen
      .slice(0, 5)
      .map((a) => a.accountName)
      .join(', ')}${chosen.length > 5 ? ` and ${chosen.length - 5} more` : ''}.`;
  const entries = audit.data?.entries ?? [];
  return html`
    <section class="panel">
      <h2>Pending actions <span class="muted small">(${all.length})</span></h2>
      <${ErrorNote} error=${pending.error} />
      ${
        all.length > 0
          ? html`<div class="toolbar bulk-bar">
          <label class="field inline"><span>Action</span>
            <select value=${kind} onChange=${(e) => setKind(e.target.value)}>
              <option value="">All</option>
              ${KINDS.map((k) => html`<option value=${k}>${k} (${all.filter((a) => a.action === k).length})</option>`)}
            </select></label>
          <label class="field inline"><span>Search</span>
            <input type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} placeholder="account or reason" /></label>
          <label class="check"><input type="checkbox" checked=${allShown} data-testid="select-all"
            onChange=${(e) => setSelected(e.target.checked ? new Set(actions.map((a) => a.id)) : new Set())} /> Select all shown (${actions.length})</label>
          ${
            chosen.length > 0
              ? html`<span class="form-actions">
            <${ActionButton} kind="primary" onClick=${bulk('approve')} confirm=${question('Approve')}
              label=${`Approve ${chosen.length} selected`}>Approve selected (${chosen.length})<//>
            <${ActionButton} onClick=${bulk('reject')} confirm=${question('Reject')}
              label=${`Reject ${chosen.length} selected`}>Reject selected (${chosen.length})<//>
          </span>`
              : null
          }
        </div>`
          : null
      }
      ${
        actions.length === 0
          ? html`<${Empty}>Nothing waits for a decision. Inspection runs add suggestions here.<//>`
          : html`<div class="table-wrap"><table data-testid="action-queue">
              <thead><tr><th scope="col">Account</th><th scope="col">Action</th><th scope="col">Reason</th><th scope="col">Evidence</th><th scope="col">Suggested</th><th scope="col"><span class="sr-only">Decision</span></th></tr></thead>
              <tbody>
                ${actions.map(
                  (a) => html`<tr data-action-id=${a.id}>
                    <td data-label="Account"><label class="check"><input type="checkbox" checked=${selected.has(a.id)}
                      onChange=${() => toggle(a.id)} aria-label=${`Select ${a.action} ${a.accountName}`} /> <strong>${a.accountName}</strong></label></td>
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
