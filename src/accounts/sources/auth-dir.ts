// A directory of auth files in any mix of the §4 formats (default `./account`). Dot-files (our
// temp files, locks and journals) and anything not ending in .json are skipped.
import { resolve, sep } from 'node:path';
import { fs } from '../../runtime/fs.ts';
import { fsErrorMessage } from '../auth-file.ts';
import { type FileLoader, readFileLoad } from './file-load.ts';
import type { AccountLoad, AccountSource } from './types.ts';

const { readdirSync } = fs;

export const DEFAULT_ACCOUNT_DIR = 'account';

export function authDirSource(dir: string = DEFAULT_ACCOUNT_DIR, loadFile: FileLoader = readFileLoad): AccountSource {
  const location = resolve(dir);
  return {
    kind: 'auth-dir',
    location,
    async load(): Promise<AccountLoad> {
      let names: string[];
      try {
        // Synchronous, like the file reads (src/accounts/auth-file.ts): one directory listing is cheaper
        // than a thread-pool round trip, and the cached report lists 1000 entries on every run.
        const entries = readdirSync(location, { withFileTypes: true });
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
      // location is resolved and a directory entry has no separator: plain concatenation is join() without
      // its normalisation pass, which showed up for 1000 files.
      const results = await Promise.all(names.map((name) => loadFile(location + sep + name, 'auth-dir')));
      return { accounts: results.flatMap((r) => r.accounts), errors: results.flatMap((r) => r.errors) };
    },
  };
}
