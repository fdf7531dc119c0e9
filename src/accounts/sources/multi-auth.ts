// A codex-multi-auth v3 accounts file (`openai-codex-accounts.json`). It was named explicitly, so
// a missing file is an error here.
import { resolve } from 'node:path';
import { type FileLoader, readFileLoad } from './file-load.ts';
import type { AccountSource } from './types.ts';

export function multiAuthSource(file: string, loadFile: FileLoader = readFileLoad): AccountSource {
  const path = resolve(file);
  return {
    kind: 'multi-auth',
    location: path,
    load: () => loadFile(path, 'multi-auth', 'multi-auth'),
  };
}
