// Settings: CPA servers (management keys masked; replaced only on purpose), thresholds per window,
// action policy, webhook for state changes, probe concurrency.
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorNote, html, useResource } from '../lib.js';

export function SettingsPage() {
  const res = useResource('/api/settings', []);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!res.data) return;
    const s = res.data.settings;
    setForm({
      cpaServers: s.cpaServers.map((c) => ({ ...c, newKey: '', replacing: !c.managementKey })),
      thresholds: { ...s.thresholds },
      policy: { ...s.policy },
      webhookUrl: s.webhookUrl ?? '',
      probeConcurrency: s.probeConcurrency,
    });
  }, [res.data]);
  if (!form) return html`<${ErrorNote} error=${res.error} /><p class="muted">Loading settings…</p>`;

  const update = (patch) => {
    setSaved(false);
    setForm({ ...form, ...patch });
  };
  const setServer = (i, patch) =>
    update({ cpaServers: form.cpaServers.map((c, j) => (i === j ? { ...c, ...patch } : c)) });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = {
        cpaServers: form.cpaServers.map((c) => ({
          name: c.name.trim(),
          baseUrl: c.baseUrl.trim(),
          ...(c.replacing && c.newKey.trim() ? { managementKey: c.newKey.trim() } : {}),
        })),
        thresholds: Object.fromEntries(Object.entries(form.thresholds).map(([k, v]) => [k, Number(v)])),
        policy: form.policy,
        webhookUrl: form.webhookUrl.trim() || null,
        probeConcurrency: Number(form.probeConcurrency),
      };
      await api('/api/settings', { method: 'PUT', body });
      setSaved(true);
      res.reload();
    } catch (err) {
      setError(err);
    }
  };
  const policyLabels = {
    autoDisable: 'Disable exhausted accounts automatically (re-enabled after reset)',
    autoEnable: 'Enable accounts again automatically (only those codex-fleet disabled itself)',
    autoDelete: 'Delete accounts automatically on confirmed evidence (deactivated workspace seen twice)',
  };
  return html`<form class="form settings" onSubmit=${save}>
    <section class="panel">
      <h2>CPA servers</h2>
      ${form.cpaServers.length === 0 ? html`<p class="muted">No CLIProxyAPI server configured.</p>` : null}
      ${form.cpaServers.map(
        (c, i) => html`<fieldset class="cpa-server">
          <legend>${c.name || 'New server'}</legend>
          <label class="field"><span>Name</span><input value=${c.name} onInput=${(e) => setServer(i, { name: e.target.value })} required /></label>
          <label class="field"><span>Management URL</span><input type="url" value=${c.baseUrl} placeholder="http://127.0.0.1:8317"
            onInput=${(e) => setServer(i, { baseUrl: e.target.value })} required /></label>
          ${
            c.replacing
              ? html`<label class="field"><span>Management key${c.managementKey ? ' (new value)' : ''}</span>
                  <input type="password" autocomplete="off" value=${c.newKey} onInput=${(e) => setServer(i, { newKey: e.target.value })} /></label>`
              : html`<div class="field"><span>Management key</span><div class="masked-row"><code>${c.managementKey}</code>
                  <button type="button" class="btn small" onClick=${() => setServer(i, { replacing: true })}>Replace</button></div></div>`
          }
          <button type="button" class="btn danger-outline small" onClick=${() => update({ cpaServers: form.cpaServers.filter((_, j) => j !== i) })}>Remove server</button>
        </fieldset>`,
      )}
      <button type="button" class="btn" onClick=${() =>
        update({
          cpaServers: [...form.cpaServers, { name: '', baseUrl: '', managementKey: null, newKey: '', replacing: true }],
        })}>Add CPA server</button>
    </section>
    <section class="panel">
      <h2>Thresholds</h2>
      <p class="muted small">An account is flagged when its remaining quota in a window falls below this percentage.</p>
      <div class="grid-3">
        ${[
          ['5h', '5-hour window'],
          ['weekly', 'Weekly window'],
          ['monthly', 'Monthly window'],
        ].map(
          ([
            k,
            label,
          ]) => html`<label class="field"><span>${label} (%)</span><input type="number" min="0" max="100" value=${form.thresholds[k]}
            onInput=${(e) => update({ thresholds: { ...form.thresholds, [k]: e.target.value } })} /></label>`,
        )}
      </div>
      <label class="field"><span>Probe concurrency (1-20)</span><input type="number" min="1" max="20" value=${form.probeConcurrency}
        onInput=${(e) => update({ probeConcurrency: e.target.value })} /></label>
    </section>
    <section class="panel">
      <h2>Policy</h2>
      <p class="muted small">Actions are manual by default: suggestions wait in the Actions queue.</p>
      ${Object.entries(policyLabels).map(
        ([k, label]) => html`<label class="check"><input type="checkbox" checked=${form.policy[k]}
          onChange=${(e) => update({ policy: { ...form.policy, [k]: e.target.checked } })} /> ${label}</label>`,
      )}
    </section>
    <section class="panel">
      <h2>Notifications</h2>
      <label class="field"><span>Webhook URL (POSTed when an account changes state or the pool runs low)</span>
        <input type="url" value=${form.webhookUrl} placeholder="https://ntfy.example/codex-fleet" onInput=${(e) => update({ webhookUrl: e.target.value })} /></label>
    </section>
    <${ErrorNote} error=${error} />
    ${saved ? html`<p class="form-ok" role="status">Settings saved.</p>` : null}
    <div class="form-actions"><button class="btn primary" type="submit">Save settings</button></div>
  </form>`;
}
