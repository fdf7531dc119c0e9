// The official Codex CLI's auth.json: {"auth_mode","OPENAI_API_KEY","tokens":{id_token,access_token,
// refresh_token,account_id},"last_refresh"}. The CLI writes it pretty-printed with 2 spaces and no
// trailing newline; `last_refresh` is RFC 3339.
import type { Account } from '../../domain/account.ts';
import { decodeJwtClaims } from '../../upstream/jwt.ts';
import { buildAccount, isRecord, str, toEpochMs } from './common.ts';
import type { AuthFormat, EntryProblem, FormatContext, TokenUpdate } from './types.ts';

function tokensOf(doc: unknown): Record<string, unknown> | null {
  return isRecord(doc) && isRecord(doc.tokens) ? doc.tokens : null;
}

export const codexCliFormat: AuthFormat = {
  format: 'codex-cli',
  defaultStyle: { indent: '  ', trailingNewline: false, escapeHtml: false },

  detect(doc) {
    if (!isRecord(doc) || doc.type !== undefined) return false;
    return 'tokens' in doc || 'OPENAI_API_KEY' in doc || 'auth_mode' in doc;
  },

  read(doc, ctx: FormatContext) {
    const problems: EntryProblem[] = [];
    const tokens = tokensOf(doc);
    if (!isRecord(doc)) return { accounts: [], problems: [{ index: null, message: 'not a JSON object' }] };
    if (tokens == null) {
      const why =
        str(doc.OPENAI_API_KEY) != null
          ? 'holds an API key only, no ChatGPT tokens (log in with `codex login` to use ChatGPT)'
          : '"tokens" is missing or not an object';
      return { accounts: [], problems: [{ index: null, message: why }] };
    }
    const accessToken = str(tokens.access_token);
    const refreshToken = str(tokens.refresh_token);
    if (accessToken == null && refreshToken == null) {
      problems.push({ index: null, message: '"tokens" has neither access_token nor refresh_token' });
      return { accounts: [], problems };
    }
    const account: Account = buildAccount({
      format: 'codex-cli',
      sourceKind: ctx.sourceKind,
      path: ctx.path,
      index: null,
      name: ctx.name,
      disabled: doc.disabled === true,
      accessToken,
      refreshToken,
      idToken: str(tokens.id_token),
      accountId: str(tokens.account_id),
      email: null,
      fileExpiresAt: null,
      lastRefresh: str(doc.last_refresh),
      addedAt: null,
      lastUsed: toEpochMs(doc.last_refresh),
    });
    return { accounts: [account], problems };
  },

  locate(doc) {
    return tokensOf(doc) ? 0 : -1;
  },

  applyTokens(doc, _index, u: TokenUpdate) {
    const tokens = tokensOf(doc);
    if (!tokens || !isRecord(doc)) throw new Error('auth.json has no "tokens" object to update');
    // Same rules as the CLI: keep the old value when the answer omits one, account id from the id token.
    if (u.idToken != null) tokens.id_token = u.idToken;
    tokens.access_token = u.accessToken;
    if (u.refreshToken != null) tokens.refresh_token = u.refreshToken;
    const accountId = decodeJwtClaims(u.idToken)?.accountId;
    if (accountId && tokens.account_id !== accountId) tokens.account_id = accountId;
    doc.last_refresh = u.refreshedAt.toISOString();
  },

  setDisabled(doc, _index, disabled) {
    if (!isRecord(doc)) throw new Error('auth.json is not a JSON object');
    // The CLI has no such flag and drops unknown fields when it rewrites the file; codex-fleet honours it.
    doc.disabled = disabled;
  },
};
