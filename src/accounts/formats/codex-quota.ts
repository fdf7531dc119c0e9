// codex-quota's `account/<name>.auth.json`: {"access_token","account_id"}, optionally with
// refresh_token / id_token. Top-level tokens, no "type": that is what tells it from a CPA file.
import { isRecord, newExpiryMs, readFlatTokenFile } from './common.ts';
import type { AuthFormat, FormatContext, TokenUpdate } from './types.ts';

export const codexQuotaFormat: AuthFormat = {
  format: 'codex-quota',
  defaultStyle: { indent: '  ', trailingNewline: true, escapeHtml: false },

  detect(doc) {
    return (
      isRecord(doc) && doc.type === undefined && !('tokens' in doc) && ('access_token' in doc || 'refresh_token' in doc)
    );
  },

  read(doc, ctx: FormatContext) {
    return readFlatTokenFile(doc, ctx, 'codex-quota', isRecord(doc) ? (doc.expires_at ?? doc.expired) : null);
  },

  locate(doc) {
    return isRecord(doc) ? 0 : -1;
  },

  applyTokens(doc, _index, u: TokenUpdate) {
    if (!isRecord(doc)) throw new Error('auth file is not a JSON object');
    doc.access_token = u.accessToken;
    if (u.refreshToken != null) doc.refresh_token = u.refreshToken;
    // Only fields the file already has: codex-quota knows nothing else.
    if (u.idToken != null && 'id_token' in doc) doc.id_token = u.idToken;
    if ('last_refresh' in doc) doc.last_refresh = u.refreshedAt.toISOString();
    const expiry = newExpiryMs(u);
    if (expiry != null && 'expires_at' in doc) {
      doc.expires_at = typeof doc.expires_at === 'number' ? expiry : new Date(expiry).toISOString();
    }
    if (expiry != null && 'expired' in doc) doc.expired = new Date(expiry).toISOString();
  },

  setDisabled(doc, _index, disabled) {
    if (!isRecord(doc)) throw new Error('auth file is not a JSON object');
    doc.disabled = disabled;
  },
};
