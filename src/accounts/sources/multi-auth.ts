// A codex-multi-auth v3 accounts file (`openai-codex-accounts.json`). It was named explicitly, so
// a missing file is an error here.
import { resolve } from 'node:path';
import { readAuthFile } from '../auth-file.ts';
import { isLoadError, problemsAsErrors } from '../formats/index.ts';
import type { AccountLoad, AccountSource } from './types.ts';

export function multiAuthSource(file: string): AccountSource {
  const path = resolve(file);
  return {
    kind: 'multi-auth',
    location: path,
    async load(): Promise<AccountLoad> {
      const r = await readAuthFile(path, 'multi-auth', 'multi-auth');
      if (isLoadError(r)) return { accounts: [], errors: [r] };
      return { accounts: r.accounts, errors: problemsAsErrors(r) };
    },
  };
}
