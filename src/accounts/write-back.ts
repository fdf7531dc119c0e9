// Changes one account inside its auth file: tokens or the disabled flag, in the file's own format,
// under the file's lock, written atomically. Unknown fields and key order are kept because the
// change is made in the parsed document itself.
import { basename } from 'node:path';
import type { Account } from '../domain/account.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { readAuthFile, serializeAuthFile } from './auth-file.ts';
import { isLoadError, type ParsedAuthFile, parseAuthText, type TokenUpdate } from './formats/index.ts';
import { LockError, type LockOptions, withFileLock } from './lock.ts';

export type WriteBackResult = { ok: true; account: Account } | { ok: false; code: string; message: string };

export interface LocatedEntry {
  parsed: ParsedAuthFile;
  index: number;
  /** The account as the file holds it now (may differ from the caller's copy). */
  current: Account;
}

/** Re-reads the account's file and finds its entry. Call under the file lock. */
export async function locateAccount(account: Account): Promise<LocatedEntry | { code: string; message: string }> {
  if (!account.sourcePath) {
    return {
      code: 'no_source_file',
      message: `${account.name}: its tokens are not kept in a file codex-fleet manages`,
    };
  }
  const parsed = await readAuthFile(account.sourcePath, account.sourceKind, account.format);
  if (isLoadError(parsed)) return { code: 'source_unreadable', message: parsed.message };
  const index = parsed.format.locate(parsed.doc, account);
  const current = parsed.accounts.find((a) => (a.sourceIndex ?? 0) === index);
  if (index < 0 || !current) {
    return { code: 'account_not_found', message: `${account.sourcePath}: ${account.name} is no longer in this file` };
  }
  return { parsed, index, current };
}

/** Writes the changed document and returns the account as it now reads back. */
export async function saveLocated(entry: LocatedEntry): Promise<Account> {
  const text = serializeAuthFile(entry.parsed);
  await writeFileAtomic(entry.parsed.path, text);
  const again = parseAuthText(text, {
    path: entry.parsed.path,
    fileName: basename(entry.parsed.path),
    sourceKind: entry.current.sourceKind,
  });
  const account = isLoadError(again) ? undefined : again.accounts.find((a) => (a.sourceIndex ?? 0) === entry.index);
  if (!account) throw new Error(`${entry.parsed.path}: written file does not read back`);
  return account;
}

async function modify(
  account: Account,
  change: (entry: LocatedEntry) => void,
  options: LockOptions,
): Promise<WriteBackResult> {
  if (!account.sourcePath || account.sourceKind === 'cpa') {
    return { ok: false, code: 'no_source_file', message: `${account.name}: not kept in a file codex-fleet manages` };
  }
  try {
    return await withFileLock(
      account.sourcePath,
      account.format,
      async () => {
        const entry = await locateAccount(account);
        if (!('parsed' in entry)) return { ok: false, ...entry };
        change(entry);
        return { ok: true, account: await saveLocated(entry) };
      },
      options,
    );
  } catch (error) {
    const code = error instanceof LockError ? 'lock_timeout' : 'write_failed';
    return { ok: false, code, message: `${account.sourcePath}: ${(error as Error).message}` };
  }
}

/** Sets the disabled flag the way the format spells it (multi-auth: enabled=false). */
export function setAccountDisabled(account: Account, disabled: boolean, options: LockOptions = {}) {
  return modify(account, (e) => e.parsed.format.setDisabled(e.parsed.doc, e.index, disabled), options);
}

/** Stores a new token pair (e.g. from an import or a refresh done elsewhere). */
export function writeAccountTokens(account: Account, update: TokenUpdate, options: LockOptions = {}) {
  return modify(account, (e) => e.parsed.format.applyTokens(e.parsed.doc, e.index, update), options);
}
