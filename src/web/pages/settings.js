// Settings: CPA servers (management keys masked; replaced only on purpose), disable thresholds per
// window, action policy, webhooks for state changes, probe concurrency.
import { useEffect, useState } from 'preact/hooks';
import { ActionButton, api, ErrorNote, html, useResource } from '../lib.js';

const WINDOWS = [
  ['5h', '5-hour window'],
  ['weekly', 'Weekly window'],
  ['monthly', 'Monthly window'],
];
const POLICY = [
  ['autoDisable', 'Disable automatically (exhausted accounts; re-enabled after the reset)'],
  ['autoEnable', 'Enable automatically again (only accounts codex-fleet disabled itself, never one a person disabled)'],
  ['autoDelete', 'Delete automatically on confirmed evidence (e.g. a deactivated workspace seen twice)'],
];

function CpaServer({ server, onSaved, onRemoved }) {
  const isNew = !server.name;
  const [name, setName] = useState(server.name ?? '');
  const [url, setUrl] = useState(server.url ?? '');
  const [replacing, setReplacing] = useState(isNew);
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { url: url.trim(), ...(replacing && key.trim() ? { managementKey: key.trim() } : {}) };
      await api(`/api/cpa-servers/${encodeURIComponent(name.trim())}`, { method: 'PUT', body });
      setKey('');
      setReplacing(false);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="cpa-server" onSubmit=${save} aria-label=${isNew ? 'New CPA server' : `CPA server ${server.name}`}>
    <fieldset>
      <legend>${isNew ? 'New server' : server.name}</legend>
      ${isNew ? html`<label class="field"><span>Name</span><input value=${name} onInput=${(e) => setName(e.target.value)} required /></label>` : null}
      <label class="field"><span>Management URL</span>
        <input type="url" value=${url} placeholder="http://127.0.0.1:8317" onInput=${(e) => setUrl(e.target.value)} required /></label>
      ${
        replacing
          ? html`<label class="field"><span>Management key${server.managementKey ? ' (new value)' : ''}</span>
              <input type="password" autocomplete="off" value=${key} onInput=${(e) => setKey(e.target.value)} required=${isNew} /></label>`
          : html`<div class="field"><span>Management key</span><div class="masked-row"><code>${server.managementKey ?? 'none'}</code>
              <button type="button" class="btn small" onClick=${() => setReplacing(true)} aria-label=${`Replace the key of ${server.name}`}>Replace</button></div></div>`
      }
      ${server.breaker?.open ? html`<p class="form-error">Paused after a rejected key: ${server.breaker.reason ?? ''}. Enter the key again to resume.</p>` : null}
      <${ErrorNote} error=${error} />
      <div class="form-actions">
        <button class="btn primary" type="submit">${isNew ? 'Add server' : 'Save'}</button>
        ${
          isNew
            ? html`<button type="button" class="btn ghost" onClick=${onRemoved}>Cancel</button>`
            : html`<${ActionButton} kind="danger-outline" label=${`Remove ${server.name}`} confirm=${`Remove the CPA server ${server.name}?`}
                onClick=${async () => {
                  await api(`/api/cpa-servers/${encodeURIComponent(server.name)}`, { method: 'DELETE' });
                  onRemoved();
                }}>Remove<//>`
        }
      </div>
    </fieldset>
  </form>`;
}

function CpaServers() {
  const res = useResource('/api/cpa-servers', ['settings']);
  const [adding, setAdding] = useState(false);
  const servers = res.data?.servers ?? [];
  return html`<section class="panel">
    <h2>CPA servers</h2>
    <${ErrorNote} error=${res.error} />
    ${servers.length === 0 && !adding ? html`<p class="muted">No CLIProxyAPI server configured.</p>` : null}
    ${servers.map((s) => html`<${CpaServer} key=${s.name} server=${s} onSaved=${res.reload} onRemoved=${res.reload} />`)}
    ${
      adding
        ? html`<${CpaServer} server=${{}} onSaved=${() => {
            setAdding(false);
            res.reload();
          }} onRemoved=${() => setAdding(false)} />`
        : html`<button type="button" class="btn" onClick=${() => setAdding(true)}>Add CPA server</button>`
    }
  </section>`;
}

function SettingsForm() {
  const res = useResource('/api/settings', []);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (res.data) setForm(structuredClone(res.data.settings));
  }, [res.data]);
  if (!form) return html`<${ErrorNote} error=${res.error} /><p class="muted">Loading settings…</p>`;
  const update = (fn) => {
    setSaved(false);
    const next = structuredClone(form);
    fn(next);
    setForm(next);
  };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const thresholds = Object.fromEntries(
        Object.entries(form.thresholds).map(([k, t]) => [
          k,
          { enabled: t.enabled, disableAtUsedPercent: Number(t.disableAtUsedPercent) },
        ]),
      );
      await api('/api/settings', {
        method: 'PUT',
        body: {
          thresholds,
          policy: { ...form.policy, deleteConfirmMinutes: Number(form.policy.deleteConfirmMinutes) },
          notifications: {
            webhooks: form.notifications.webhooks
              .filter((w) => w.url.trim())
              .map((w) => ({ url: w.url.trim(), format: w.format })),
            poolLowFraction: Number(form.notifications.poolLowFraction),
          },
          probeConcurrency: Number(form.probeConcurrency),
        },
      });
      setSaved(true);
      res.reload();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="form settings" onSubmit=${save} aria-label="Settings">
    <section class="panel">
      <h2>Thresholds</h2>
      <p class="muted small">Inspection suggests Disable when an account's used quota in a window reaches this percentage.</p>
      <div class="grid-3">
        ${WINDOWS.map(
          ([k, label]) => html`<fieldset>
            <legend>${label}</legend>
            <label class="check"><input type="checkbox" checked=${form.thresholds[k].enabled}
              onChange=${(e) =>
                update((f) => {
                  f.thresholds[k].enabled = e.target.checked;
                })} /> Enabled</label>
            <label class="field"><span>Disable at used (%)</span><input type="number" min="1" max="100" value=${form.thresholds[k].disableAtUsedPercent}
              onInput=${(e) =>
                update((f) => {
                  f.thresholds[k].disableAtUsedPercent = e.target.value;
                })} /></label>
          </fieldset>`,
        )}
      </div>
      <label class="field"><span>Probe concurrency (1-20)</span><input type="number" min="1" max="20" value=${form.probeConcurrency}
        onInput=${(e) =>
          update((f) => {
            f.probeConcurrency = e.target.value;
          })} /></label>
    </section>
    <section class="panel">
      <h2>Policy</h2>
      <p class="muted small">Actions are manual by default: suggestions wait in the Actions queue for approval.</p>
      ${POLICY.map(
        ([k, label]) => html`<label class="check"><input type="checkbox" checked=${form.policy[k]}
          onChange=${(e) =>
            update((f) => {
              f.policy[k] = e.target.checked;
            })} /> ${label}</label>`,
      )}
      <label class="field"><span>Delete evidence must be seen twice, at least this many minutes apart</span>
        <input type="number" min="0" value=${form.policy.deleteConfirmMinutes} onInput=${(e) =>
          update((f) => {
            f.policy.deleteConfirmMinutes = e.target.value;
          })} /></label>
    </section>
    <section class="panel">
      <h2>Notifications</h2>
      <p class="muted small">A webhook gets one message when an account changes state or the pool runs low.</p>
      ${form.notifications.webhooks.map(
        (w, i) => html`<div class="webhook-row">
          <label class="field"><span>Webhook URL</span><input type="url" value=${w.url} placeholder="https://ntfy.example/codex-fleet"
            onInput=${(e) =>
              update((f) => {
                f.notifications.webhooks[i].url = e.target.value;
              })} /></label>
          <label class="field"><span>Format</span><select value=${w.format} onChange=${(e) =>
            update((f) => {
              f.notifications.webhooks[i].format = e.target.value;
            })}>
            <option value="json">JSON</option><option value="slack">Slack</option><option value="discord">Discord</option></select></label>
          <button type="button" class="btn danger-outline small" onClick=${() =>
            update((f) => {
              f.notifications.webhooks.splice(i, 1);
            })}
            aria-label=${`Remove webhook ${i + 1}`}>Remove</button>
        </div>`,
      )}
      <button type="button" class="btn" onClick=${() =>
        update((f) => {
          f.notifications.webhooks.push({ url: '', format: 'json' });
        })}>Add webhook</button>
      <label class="field"><span>Pool is low below this fraction of usable accounts (0-1)</span>
        <input type="number" min="0" max="1" step="0.05" value=${form.notifications.poolLowFraction}
          onInput=${(e) =>
            update((f) => {
              f.notifications.poolLowFraction = e.target.value;
            })} /></label>
    </section>
    <${ErrorNote} error=${error} />
    ${saved ? html`<p class="form-ok" role="status">Settings saved.</p>` : null}
    <div class="form-actions"><button class="btn primary" type="submit">Save settings</button></div>
  </form>`;
}

export function SettingsPage() {
  return html`<div class="settings-page"><${CpaServers} /><${SettingsForm} /></div>`;
}
