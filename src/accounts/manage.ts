// Account management behind `codex-fleet accounts …` and the dashboard: import auth files from a path,
// add one from token JSON (a file or stdin, never argv), and the one auth-file name rule and the one
// delete (a move into `.deleted/`, so it can be undone) that both faces use.
import { basename, dirname, join, resolve } from 'node:path';
import type { Account, AccountSourceKind } from '../domain/account.ts';
import { fs, fsPromises } from '../runtime/fs.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { fsErrorMessage, readAuthFile } from './auth-file.ts';
import { type AccountLoadError, isLoadError, parseAuthText, problemsAsErrors } from './formats/index.ts';
import type { AccountLoad } from './sources/types.ts';

const { existsSync } = fs;

/** The kind an imported file is remembered as (and re-read with, so derived ids stay stable). */
export function importKind(path: string, format: Account['format']): AccountSourceKind {
  if (format === 'multi-auth') return 'multi-auth';
  if (format === 'codex-cli' && basename(path) === 'auth.json') return 'codex-home';
  return 'auth-dir';
}

async function importFile(path: string): Promise<AccountLoad> {
  const probe = await readAuthFile(path, 'auth-dir');
  if (isLoadError(probe)) return { accounts: [], errors: [probe] };
  const kind = importKind(path, probe.format.format);
  const parsed = kind === 'auth-dir' ? probe : await readAuthFile(path, kind);
  if (isLoadError(parsed)) return { accounts: [], errors: [parsed] };
  return { accounts: parsed.accounts, errors: problemsAsErrors(parsed) };
}

/** Reads an auth file, or every *.json file in a directory; the files stay where they are. */
export async function readImportPath(path: string): Promise<AccountLoad> {
  const full = resolve(path);
  let isDir: boolean;
  try {
    isDir = (await fsPromises().stat(full)).isDirectory();
  } catch (error) {
    return { accounts: [], errors: [{ path: full, index: null, format: null, message: fsErrorMessage(full, error) }] };
  }
  if (!isDir) return importFile(full);
  const names = (await fsPromises().readdir(full)).filter((n) => !n.startsWith('.') && /\.json$/i.test(n)).sort();
  const loads = await Promise.all(names.map((n) => importFile(join(full, n))));
  return { accounts: loads.flatMap((l) => l.accounts), errors: loads.flatMap((l) => l.errors) };
}

export class AddAccountError extends Error {
  override name = 'AddAccountError';
}

/**
 * The one auth-file name rule (CLI, dashboard form, API): letters, digits and . _ @ + -, not starting
 * with a dot and never `..`, so a name can never reach outside its directory.
 */
export const AUTH_FILE_NAME = /^(?!.*\.\.)[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,127}$/;
export const AUTH_FILE_NAME_RULE =
  'letters, digits and . _ @ + - only (no slashes, not starting with a dot, at most 128)';
const SAFE_NAME = AUTH_FILE_NAME;

/** Where a deleted auth file goes: `.deleted/<time>-<name>` beside it; moving it back undoes the delete. */
export const TRASH_DIR = '.deleted';

/** Moves an auth file into its directory's `.deleted/`; returns the new path. Throws ENOENT when absent. */
export async function moveToTrash(path: string, now: number): Promise<string> {
  const trash = join(dirname(path), TRASH_DIR);
  await fsPromises().mkdir(trash, { recursive: true, mode: 0o700 });
  const target = join(trash, `${now}-${basename(path)}`);
  await fsPromises().rename(path, target);
  return target;
}

/**
 * Writes a new auth file into `dir` from JSON text in any single-account format of §4 (a bare
 * `{"access_token", "refresh_token", "id_token", "account_id"}` object is a codex-quota file).
 * The text is written as given (0600), so nothing about it changes. Returns the new account.
 */
export async function addAccountFile(dir: string, text: string, name?: string): Promise<Account> {
  if (name != null && !SAFE_NAME.test(name)) {
    throw new AddAccountError(`--name "${name.slice(0, 20)}" may hold ${AUTH_FILE_NAME_RULE}`);
  }
  const parsed = parseAuthText(text, { path: '(input)', fileName: 'input.json', sourceKind: 'auth-dir' });
  if (isLoadError(parsed))
    throw new AddAccountError(parsed.message.replace(/^\(input\): /, 'the token JSON is not usable: '));
  const format = parsed.format.format;
  if (format === 'multi-auth') {
    throw new AddAccountError('that is a codex-multi-auth accounts file: use `codex-fleet accounts import <file>`');
  }
  const account = parsed.accounts[0];
  let fileName: string;
  if (format === 'cpa') {
    const email = account.email;
    if (!name && !email) throw new AddAccountError('no email in the file or its tokens: pass --name');
    fileName = name ? `${name}.json` : `codex-${email}.json`;
  } else {
    if (!name) throw new AddAccountError('pass --name: the account is known by its file name');
    fileName = format === 'codex-quota' ? `${name}.auth.json` : `${name}.json`;
  }
  if (!SAFE_NAME.test(fileName))
    throw new AddAccountError(`cannot make a safe file name from "${fileName}": pass --name`);
  const path = join(resolve(dir), fileName);
  if (existsSync(path)) throw new AddAccountError(`${path} already exists: remove it first or choose another --name`);
  await import('node:fs/promises').then((fs) => fs.mkdir(resolve(dir), { recursive: true, mode: 0o700 }));
  await writeFileAtomic(path, text);
  const written = await readAuthFile(path, 'auth-dir');
  if (isLoadError(written)) throw new AddAccountError(written.message);
  return written.accounts[0];
}

/** Deletes (moves to `.deleted/`) a single-account auth file; a multi-auth file holds others too, so it is refused. */
export async function deleteAccountFile(account: Account, now: number = Date.now()): Promise<AccountLoadError | null> {
  if (!account.sourcePath) return null;
  if (account.format === 'multi-auth') {
    return {
      path: account.sourcePath,
      index: account.sourceIndex,
      format: 'multi-auth',
      message: `${account.sourcePath} holds other accounts too: remove the entry with codex-multi-auth instead`,
    };
  }
  try {
    await moveToTrash(account.sourcePath, now);
    return null;
  } catch (error) {
    return {
      path: account.sourcePath,
      index: null,
      format: account.format,
      message: fsErrorMessage(account.sourcePath, error),
    };
  }
}

/**
 * The single-file auth routes (save, edit, delete by name) change one account per file. A
 * codex-multi-auth file holds many: a save would write single-account fields into it and a delete
 * would take every account in it. This is the one refusal both the API and the forms give.
 */
export function multiAccountFileRefusal(fileName: string, accounts: number): string {
  return (
    `${fileName} is a codex-multi-auth file holding ${accounts} account${accounts === 1 ? '' : 's'}: ` +
    'the single-file auth routes cannot edit or delete it, since one change would touch every account in it. ' +
    'Edit it with codex-multi-auth, or remove one account with `codex-fleet accounts remove <name>`'
  );
}
