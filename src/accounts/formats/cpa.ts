// CLIProxyAPI's auth file `codex-<email>.json`: {"type":"codex","email","id_token","access_token",
// "refresh_token","account_id","last_refresh","expired","disabled"}.
import { buildAccount, isRecord, newExpiryMs, str, toEpochMs } from './common.ts';
import type { AuthFormat, FormatContext, TokenUpdate } from './types.ts';

export const cpaFormat: AuthFormat = {
  format: 'cpa',
  defaultStyle: { indent: '  ', trailingNewline: false, escapeHtml: true },

  detect(doc) {
    return isRecord(doc) && doc.type === 'codex';
  },

  read(doc, ctx: FormatContext) {
    if (!isRecord(doc)) return { accounts: [], problems: [{ index: null, message: 'not a JSON object' }] };
    const accessToken = str(doc.access_token);
    const refreshToken = str(doc.refresh_token);
    if (accessToken == null && refreshToken == null) {
      return { accounts: [], problems: [{ index: null, message: 'has neither access_token nor refresh_token' }] };
    }
    const account = buildAccount({
      format: 'cpa',
      sourceKind: ctx.sourceKind,
      path: ctx.path,
      index: null,
      name: ctx.name,
      disabled: doc.disabled === true,
      accessToken,
      refreshToken,
      idToken: str(doc.id_token),
      accountId: str(doc.account_id),
      email: str(doc.email),
      fileExpiresAt: toEpochMs(doc.expired),
      lastRefresh: str(doc.last_refresh),
      addedAt: null,
      lastUsed: null,
    });
    return { accounts: [account], problems: [] };
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
