// One auth file read into accounts and errors: what every source does per file. Sources take the reader
// as a parameter so the parsed-account cache (src/accounts/parsed-cache.ts) can skip unchanged files.
import type { AccountSourceKind, AuthFileFormat } from '../../domain/account.ts';
import { readAuthFile } from '../auth-file.ts';
import { isLoadError, problemsAsErrors } from '../formats/index.ts';
import type { AccountLoad } from './types.ts';

export type FileLoader = (
  path: string,
  sourceKind: AccountSourceKind,
  expected?: AuthFileFormat,
) => Promise<AccountLoad>;

/** Reads and parses the file every time. */
export const readFileLoad: FileLoader = async (path, sourceKind, expected) => {
  const r = await readAuthFile(path, sourceKind, expected);
  if (isLoadError(r)) return { accounts: [], errors: [r] };
  return { accounts: r.accounts, errors: problemsAsErrors(r) };
};
