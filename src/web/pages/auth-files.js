// Auth files: list, new, edit, delete (paths /auth, /auth/new, /auth/edit?name= as in codex-quota).
// Secrets are shown masked; a token changes only when "Replace" is chosen and a new value typed.
import { useEffect, useState } from 'preact/hooks';
import { ActionButton, api, Empty, ErrorNote, formatTime, html, navigate, useResource } from '../lib.js';

const FORMATS = [
  ['cpa', 'CLIProxyAPI (codex-<email>.json)'],
  ['codex-cli', 'Codex CLI auth.json'],
  ['codex-quota', 'codex-quota (<name>.auth.json)'],
  ['multi-auth', 'codex-multi-auth'],
];
const TOKENS = [
  ['accessToken', 'Access token'],
  ['refreshToken', 'Refresh token'],
  ['idToken', 'ID token'],
];

function List() {
  const res = useResource('/api/auth-files', ['auth-files', 'accounts']);
  const files = res.data?.files ?? [];
  const remove = (name) => async () => {
    await api(`/api/auth-files/${encodeURIComponent(name)}`, { method: 'DELETE' });
    res.reload();
  };
  return html`
    <section class="toolbar">
      <p class="muted">${files.length} auth file${files.length === 1 ? '' : 's'}. Tokens are masked and never sent to the browser.</p>
      <a class="btn primary" href="/auth/new">New auth file</a>
    </section>
    <${ErrorNote} error=${res.error} />
    ${
      files.length === 0 && !res.loading
        ? html`<${Empty}>No auth files yet.<//>`
        : html`<div class="table-wrap"><table class="auth-table" data-testid="auth-files">
            <thead><tr><th scope="col">Name</th><th scope="col">Format</th><th scope="col">Email</th><th scope="col">Access token</th><th scope="col">Refresh token</th><th scope="col">State</th><th scope="col">Modified</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              ${files.map(
                (f) => html`<tr data-file=${f.name}>
                  <td data-label="Name"><strong>${f.name}</strong></td>
                  <td data-label="Format">${f.format}</td>
                  <td data-label="Email">${f.email ?? '—'}</td>
                  <td data-label="Access token"><code>${f.accessToken ?? '—'}</code></td>
                  <td data-label="Refresh token"><code>${f.refreshToken ?? '—'}</code></td>
                  <td data-label="State">${f.disabled ? 'disabled' : 'enabled'}</td>
                  <td data-label="Modified">${formatTime(f.modifiedAt)}</td>
                  <td class="row-actions">
                    <a class="btn" href=${`/auth/edit?name=${encodeURIComponent(f.name)}`} aria-label=${`Edit ${f.name}`}>Edit</a>
                    <${ActionButton} kind="danger-outline" onClick=${remove(f.name)} label=${`Delete ${f.name}`}
                      confirm=${`Delete the auth file ${f.name}? This cannot be undone.`}>Delete<//>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
    }
  `;
}

function TokenField({ id, label, masked, value, replacing, onReplace, onInput }) {
  if (masked && !replacing) {
    return html`<div class="field">
      <span>${label}</span>
      <div class="masked-row"><code>${masked}</code>
        <button type="button" class="btn small" onClick=${onReplace} aria-label=${`Replace ${label.toLowerCase()}`}>Replace</button></div>
    </div>`;
  }
  return html`<label class="field" for=${id}>
    <span>${label}${masked ? ' (new value)' : ''}</span>
    <input id=${id} name=${id} type="password" autocomplete="off" spellcheck="false" value=${value} onInput=${onInput}
      placeholder=${masked ? 'paste the replacement' : 'optional'} />
  </label>`;
}

function Editor({ name }) {
  const editing = name != null;
  const [form, setForm] = useState(
    editing ? null : { name: '', format: 'cpa', email: '', accountId: '', disabled: false },
  );
  const [masked, setMasked] = useState({});
  const [tokens, setTokens] = useState({ accessToken: '', refreshToken: '', idToken: '' });
  const [replacing, setReplacing] = useState({});
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!editing) return;
    api(`/api/auth-files/${encodeURIComponent(name)}`).then(({ file }) => {
      setForm({
        name: file.name,
        format: file.format,
        email: file.email ?? '',
        accountId: file.accountId ?? '',
        disabled: file.disabled,
      });
      setMasked({ accessToken: file.accessToken, refreshToken: file.refreshToken, idToken: file.idToken });
    }, setError);
  }, [name]);
  if (!form) return html`<${ErrorNote} error=${error} /><p class="muted">Loading…</p>`;
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    const body = {
      format: form.format,
      email: form.email.trim() || null,
      accountId: form.accountId.trim() || null,
      disabled: form.disabled,
    };
    for (const [k] of TOKENS) if (tokens[k].trim() !== '') body[k] = tokens[k].trim();
    try {
      if (editing) await api(`/api/auth-files/${encodeURIComponent(name)}`, { method: 'PUT', body });
      else await api('/api/auth-files', { method: 'POST', body: { ...body, name: form.name.trim() } });
      navigate('/auth');
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="form panel" onSubmit=${save} aria-label=${editing ? `Edit ${name}` : 'New auth file'}>
    <h2>${editing ? `Edit ${name}` : 'New auth file'}</h2>
    <label class="field"><span>Name</span>
      <input name="name" value=${form.name} onInput=${set('name')} required readonly=${editing} pattern="[A-Za-z0-9_@+\\-][A-Za-z0-9._@+\\-]*" />
    </label>
    <label class="field"><span>Format</span>
      <select name="format" value=${form.format} onChange=${set('format')}>
        ${FORMATS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
    </label>
    <label class="field"><span>Email</span><input name="email" type="email" value=${form.email} onInput=${set('email')} /></label>
    <label class="field"><span>ChatGPT account id</span><input name="accountId" value=${form.accountId} onInput=${set('accountId')} /></label>
    <label class="check"><input type="checkbox" name="disabled" checked=${form.disabled} onChange=${set('disabled')} /> Disabled</label>
    ${TOKENS.map(
      ([
        k,
        label,
      ]) => html`<${TokenField} id=${k} label=${label} masked=${masked[k]} value=${tokens[k]} replacing=${replacing[k]}
        onReplace=${() => setReplacing({ ...replacing, [k]: true })} onInput=${(e) => setTokens({ ...tokens, [k]: e.target.value })} />`,
    )}
    <${ErrorNote} error=${error} />
    <div class="form-actions">
      <button class="btn primary" type="submit">${editing ? 'Save changes' : 'Create'}</button>
      <a class="btn ghost" href="/auth">Cancel</a>
    </div>
  </form>`;
}

export function AuthFilesPage({ path, search }) {
  if (path === '/auth/new') return html`<${Editor} />`;
  if (path === '/auth/edit') {
    const name = new URLSearchParams(search).get('name');
    if (!name) return html`<p class="form-error">No file named. <a href="/auth">Back to the list</a></p>`;
    return html`<${Editor} key=${name} name=${name} />`;
  }
  return html`<${List} />`;
}
