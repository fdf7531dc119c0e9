// The Codex CLI's own login: `$CODEX_HOME/auth.json` (default `~/.codex`). No file means no
// account, not an error: most machines have no CLI login.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FileLoader, readFileLoad } from './file-load.ts';
import type { AccountLoad, AccountSource } from './types.ts';

export function defaultCodexHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CODEX_HOME || join(homedir(), '.codex'));
}

export function codexHomeSource(
  codexHome: string = defaultCodexHome(),
  loadFile: FileLoader = readFileLoad,
): AccountSource {
  const path = join(resolve(codexHome), 'auth.json');
  return {
    kind: 'codex-home',
    location: path,
    async load(): Promise<AccountLoad> {
      const load = await loadFile(path, 'codex-home', 'codex-cli');
      if (load.accounts.length === 0 && load.errors.length === 1 && /: no such file$/.test(load.errors[0].message))
        return { accounts: [], errors: [] };
      return load;
    },
  };
}
