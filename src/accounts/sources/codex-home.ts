// The Codex CLI's own login: `$CODEX_HOME/auth.json` (default `~/.codex`). No file means no
// account, not an error: most machines have no CLI login.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { readAuthFile } from '../auth-file.ts';
import { isLoadError, problemsAsErrors } from '../formats/index.ts';
import type { AccountLoad, AccountSource } from './types.ts';

export function defaultCodexHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CODEX_HOME || join(homedir(), '.codex'));
}

export function codexHomeSource(codexHome: string = defaultCodexHome()): AccountSource {
  const path = join(resolve(codexHome), 'auth.json');
  return {
    kind: 'codex-home',
    location: path,
    async load(): Promise<AccountLoad> {
      const r = await readAuthFile(path, 'codex-home', 'codex-cli');
      if (isLoadError(r)) {
        if (/: no such file$/.test(r.message)) return { accounts: [], errors: [] };
        return { accounts: [], errors: [r] };
      }
      return { accounts: r.accounts, errors: problemsAsErrors(r) };
    },
  };
}
