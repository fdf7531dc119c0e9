// A directory of auth files in any mix of the §4 formats (default `./account`). Dot-files (our
// temp files, locks and journals) and anything not ending in .json are skipped.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fsErrorMessage } from '../auth-file.ts';
import { type FileLoader, readFileLoad } from './file-load.ts';
import type { AccountLoad, AccountSource } from './types.ts';

export const DEFAULT_ACCOUNT_DIR = 'account';

export function authDirSource(dir: string = DEFAULT_ACCOUNT_DIR, loadFile: FileLoader = readFileLoad): AccountSource {
  const location = resolve(dir);
  return {
    kind: 'auth-dir',
    location,
    async load(): Promise<AccountLoad> {
      let names: string[];
      try {
        const entries = await readdir(location, { withFileTypes: true });
        names = entries
          // Not only regular files: a FIFO or device named *.json gets a clear error from readAuthFile
          // instead of vanishing silently. Directories named *.json are skipped.
          .filter((e) => !e.isDirectory() && !e.name.startsWith('.') && /\.json$/i.test(e.name))
          .map((e) => e.name)
          .sort();
      } catch (error) {
        return {
          accounts: [],
          errors: [{ path: location, index: null, format: null, message: fsErrorMessage(location, error) }],
        };
      }
      const results = await Promise.all(names.map((name) => loadFile(join(location, name), 'auth-dir')));
      return { accounts: results.flatMap((r) => r.accounts), errors: results.flatMap((r) => r.errors) };
    },
  };
}
