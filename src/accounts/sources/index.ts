// Loads several sources at once; one failing source never hides the accounts of the others.
export { authDirSource, DEFAULT_ACCOUNT_DIR } from './auth-dir.ts';
export { codexHomeSource, defaultCodexHome } from './codex-home.ts';
export { type FileLoader, readFileLoad } from './file-load.ts';
export { multiAuthSource } from './multi-auth.ts';
export type { AccountLoad, AccountSource } from './types.ts';

import type { AccountLoad, AccountSource } from './types.ts';

export async function loadAll(sources: readonly AccountSource[]): Promise<AccountLoad> {
  const loads = await Promise.all(
    sources.map((s) =>
      s.load().catch(
        (error): AccountLoad => ({
          accounts: [],
          errors: [
            { path: s.location, index: null, format: null, message: `${s.location}: ${(error as Error).message}` },
          ],
        }),
      ),
    ),
  );
  return { accounts: loads.flatMap((l) => l.accounts), errors: loads.flatMap((l) => l.errors) };
}
