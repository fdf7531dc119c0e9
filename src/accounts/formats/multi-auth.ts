// codex-multi-auth's `openai-codex-accounts.json`, version 3: {"version":3,"accounts":[{"email",
// "accountId","refreshToken","accessToken","expiresAt","addedAt","lastUsed","enabled"}],"activeIndex"}.
// Times are ms since epoch; `enabled: false` is our `disabled`.
import type { Account } from '../../domain/account.ts';
import { buildAccount, isRecord, newExpiryMs, str, toEpochMs } from './common.ts';
import type { AuthFormat, EntryProblem, FormatContext, TokenUpdate } from './types.ts';

function entries(doc: unknown): unknown[] | null {
  return isRecord(doc) && Array.isArray(doc.accounts) ? doc.accounts : null;
}

function entryAt(doc: unknown, index: number): Record<string, unknown> {
  const list = entries(doc);
  const entry = list?.[index];
  if (!isRecord(entry)) throw new Error(`accounts[${index}] is missing or not an object`);
  return entry;
}

export const multiAuthFormat: AuthFormat = {
  format: 'multi-auth',
  defaultStyle: { indent: '  ', trailingNewline: false, escapeHtml: false },

  detect(doc) {
    return isRecord(doc) && 'version' in doc && Array.isArray(doc.accounts);
  },

  read(doc, ctx: FormatContext) {
    const list = entries(doc);
    if (!isRecord(doc) || list == null) {
      return { accounts: [], problems: [{ index: null, message: '"accounts" is missing or not an array' }] };
    }
    if (doc.version !== 3) {
      return {
        accounts: [],
        problems: [{ index: null, message: `version ${JSON.stringify(doc.version)} is not supported (expected 3)` }],
      };
    }
    const accounts: Account[] = [];
    const problems: EntryProblem[] = [];
    list.forEach((entry, index) => {
      if (!isRecord(entry)) {
        problems.push({ index, message: `accounts[${index}] is not an object` });
        return;
      }
      const accessToken = str(entry.accessToken);
      const refreshToken = str(entry.refreshToken);
      if (accessToken == null && refreshToken == null) {
        problems.push({ index, message: `accounts[${index}] has neither accessToken nor refreshToken` });
        return;
      }
      const email = str(entry.email);
      accounts.push(
        buildAccount({
          format: 'multi-auth',
          sourceKind: ctx.sourceKind,
          path: ctx.path,
          index,
          name: email ?? `${ctx.name}#${index}`,
          disabled: entry.enabled === false,
          accessToken,
          refreshToken,
          idToken: str(entry.idToken),
          accountId: str(entry.accountId),
          email,
          fileExpiresAt: toEpochMs(entry.expiresAt),
          lastRefresh: null,
          addedAt: toEpochMs(entry.addedAt),
          lastUsed: toEpochMs(entry.lastUsed),
        }),
      );
    });
    return { accounts, problems };
  },

  locate(doc, account) {
    const list = entries(doc);
    if (list == null) return -1;
    // Entries can be reordered by the plugin: trust the index only when the ids still match.
    const matches = (e: unknown) =>
      isRecord(e) &&
      (account.accountId == null || e.accountId == null || e.accountId === account.accountId) &&
      (account.email == null || e.email == null || e.email === account.email);
    const at = account.sourceIndex;
    if (at != null && matches(list[at])) return at;
    if (account.accountId == null && account.email == null) return -1;
    return list.findIndex(
      (e) =>
        isRecord(e) &&
        matches(e) &&
        ((account.accountId != null && e.accountId === account.accountId) ||
          (account.email != null && e.email === account.email)),
    );
  },

  applyTokens(doc, index, u: TokenUpdate) {
    const entry = entryAt(doc, index);
    entry.accessToken = u.accessToken;
    if (u.refreshToken != null) entry.refreshToken = u.refreshToken;
    if (u.idToken != null && 'idToken' in entry) entry.idToken = u.idToken;
    const expiry = newExpiryMs(u);
    if (expiry != null) entry.expiresAt = expiry;
  },

  setDisabled(doc, index, disabled) {
    entryAt(doc, index).enabled = !disabled;
  },
};
