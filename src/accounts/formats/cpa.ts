// CLIProxyAPI's auth file `codex-<email>.json`: {"type":"codex","email","id_token","access_token",
// "refresh_token","account_id","last_refresh","expired","disabled"}.
import { isRecord, newExpiryMs, readFlatTokenFile } from './common.ts';
import type { AuthFormat, FormatContext, TokenUpdate } from './types.ts';

export const cpaFormat: AuthFormat = {
  format: 'cpa',
  defaultStyle: { indent: '  ', trailingNewline: false, escapeHtml: true },

  detect(doc) {
    return isRecord(doc) && doc.type === 'codex';
  },

  read(doc, ctx: FormatContext) {
    return readFlatTokenFile(doc, ctx, 'cpa', isRecord(doc) ? doc.expired : null);
  },

  locate(doc) {
    return isRecord(doc) ? 0 : -1;
  },

  applyTokens(doc, _index, u: TokenUpdate) {
    if (!isRecord(doc)) throw new Error('CPA auth file is not a JSON object');
    if (u.idToken != null) doc.id_token = u.idToken;
    doc.access_token = u.accessToken;
    if (u.refreshToken != null) doc.refresh_token = u.refreshToken;
    doc.last_refresh = u.refreshedAt.toISOString();
    const expiry = newExpiryMs(u);
    if (expiry != null) doc.expired = new Date(expiry).toISOString();
  },

  setDisabled(doc, _index, disabled) {
    if (!isRecord(doc)) throw new Error('CPA auth file is not a JSON object');
    doc.disabled = disabled;
  },
};
