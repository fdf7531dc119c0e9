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
            ...alertsBody(form.notifications),
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
    <${AlertsPanel} n=${form.notifications} update=${update} />
    <${ErrorNote} error=${error} />
    ${saved ? html`<p class="form-ok" role="status">Settings saved.</p>` : null}
    <div class="form-actions"><button class="btn primary" type="submit">Save settings</button></div>
  </form>`;
}

const LEVEL_KINDS = ['5h', 'weekly', 'monthly'];
/** Levels as typed (a string while editing) or as stored (an array). */
const levelsText = (levels) => (Array.isArray(levels) ? levels.join(', ') : (levels ?? ''));
const levelsOf = (text) =>
  String(text)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);

/** The alert part of PUT /api/settings: levels, horizons, digest, quiet hours, email (password write-only). */
function alertsBody(n) {
  const quiet = n.schedule.quietHours;
  const email = n.email;
  return {
    rules: {
      windowLevels: Object.fromEntries(LEVEL_KINDS.map((k) => [k, levelsOf(n.rules.windowLevels[k])])),
      includeAdditional: n.rules.includeAdditional,
      poolRunoutHorizonHours: Number(n.rules.poolRunoutHorizonHours),
      planExpiryDays: Number(n.rules.planExpiryDays),
    },
    schedule: {
      digestMinutes: Number(n.schedule.digestMinutes),
      quietHours:
        quiet?.start && quiet?.end ? { start: quiet.start, end: quiet.end, timeZone: quiet.timeZone || 'UTC' } : null,
    },
    email: email?.host
      ? {
          host: email.host,
          port: Number(email.port),
          secure: Boolean(email.secure),
          user: email.user || null,
          ...(email.newPassword ? { password: email.newPassword } : {}),
          from: email.from,
          to: String(email.to)
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        }
      : null,
  };
}

function AlertsPanel({ n, update }) {
  const set = (fn) => (e) =>
    update((f) => fn(f.notifications, e.target.type === 'checkbox' ? e.target.checked : e.target.value));
  const quiet = n.schedule.quietHours ?? { start: '', end: '', timeZone: 'UTC' };
  const email = n.email ?? { host: '', port: 587, secure: false, user: '', from: '', to: '' };
  const setQuiet = (key) =>
    set((x, v) => {
      x.schedule.quietHours = { ...(x.schedule.quietHours ?? { start: '', end: '', timeZone: 'UTC' }), [key]: v };
    });
  const setEmail = (key) =>
    set((x, v) => {
      x.email = { ...(x.email ?? { host: '', port: 587, secure: false, user: '', from: '', to: '' }), [key]: v };
    });
  return html`<section class="panel" aria-labelledby="alerts-h">
    <h2 id="alerts-h">Alerts</h2>
    <p class="muted small">Warnings while an account still serves (used % per window), its reset, the pool running out, and plans that end without renewing. Sent to the webhooks above and by email.</p>
    <div class="grid-fields">
      ${LEVEL_KINDS.map(
        (k) => html`<label class="field"><span>${k} window: warn at % used (comma list, empty = off)</span>
          <input data-testid=${`levels-${k}`} value=${levelsText(n.rules.windowLevels[k])} onInput=${set((x, v) => {
            x.rules.windowLevels[k] = v;
          })} /></label>`,
      )}
      <label class="check"><input type="checkbox" checked=${n.rules.includeAdditional} onChange=${set((x, v) => {
        x.rules.includeAdditional = v;
      })} /><span>Also warn for per-model (additional) limits</span></label>
      <label class="field"><span>Warn when the pool runs out within (hours, 0 = off)</span>
        <input type="number" min="0" max="168" value=${n.rules.poolRunoutHorizonHours} onInput=${set((x, v) => {
          x.rules.poolRunoutHorizonHours = v;
        })} /></label>
      <label class="field"><span>Warn this many days before a plan ends without renewing (0 = off)</span>
        <input type="number" min="0" max="90" value=${n.rules.planExpiryDays} onInput=${set((x, v) => {
          x.rules.planExpiryDays = v;
        })} /></label>
      <label class="field"><span>Digest: collect alerts for this many minutes, send one message (0 = off)</span>
        <input type="number" min="0" max="1440" value=${n.schedule.digestMinutes} onInput=${set((x, v) => {
          x.schedule.digestMinutes = v;
        })} /></label>
      <label class="field"><span>Quiet hours from (HH:MM)</span><input placeholder="22:00" value=${quiet.start} onInput=${setQuiet('start')} /></label>
      <label class="field"><span>Quiet hours until (HH:MM)</span><input placeholder="07:00" value=${quiet.end} onInput=${setQuiet('end')} /></label>
      <label class="field"><span>Quiet hours time zone</span><input placeholder="Europe/Berlin" value=${quiet.timeZone} onInput=${setQuiet('timeZone')} /></label>
    </div>
    <h3>Email (SMTP)</h3>
    <div class="grid-fields">
      <label class="field"><span>SMTP host (empty = no email)</span><input value=${email.host} onInput=${setEmail('host')} /></label>
      <label class="field"><span>Port</span><input type="number" min="1" max="65535" value=${email.port} onInput=${setEmail('port')} /></label>
      <label class="check"><input type="checkbox" checked=${email.secure} onChange=${setEmail('secure')} /><span>TLS from the start (port 465)</span></label>
      <label class="field"><span>User</span><input value=${email.user ?? ''} autocomplete="off" onInput=${setEmail('user')} /></label>
      <label class="field"><span>Password ${email.passwordSet ? '(set; type to replace)' : ''}</span><input type="password" autocomplete="new-password" value=${email.newPassword ?? ''} onInput=${setEmail('newPassword')} /></label>
      <label class="field"><span>From</span><input type="email" value=${email.from} onInput=${setEmail('from')} /></label>
      <label class="field"><span>To (comma list)</span><input value=${Array.isArray(email.to) ? email.to.join(', ') : email.to} onInput=${setEmail('to')} /></label>
    </div>
  </section>`;
}

export function SettingsPage() {
  return html`<div class="settings-page"><${CpaServers} /><${SettingsForm} /></div>`;
}
