// What happened to each refresh token, kept beside the auth file (`.<file>.refresh-journal`, 0600),
// keyed by a hash of the token (never the token). Written only under the file's lock.
//  - pending: a refresh with this token was sent; if the process dies before the new pair is saved,
//    the next run knows why upstream now says `refresh_token_reused` and says so.
//  - dead: upstream said this token can never work again; no process calls upstream with it again.

import { basename, dirname, join } from 'node:path';
import { nodeCrypto } from '../runtime/crypto.ts';
import { fsPromises } from '../runtime/fs.ts';
import { writeFileAtomic } from './atomic-write.ts';

export interface JournalEntry {
  state: 'pending' | 'dead';
  /** ISO time the entry was written. */
  at: string;
  code?: string;
  message?: string;
}

export type Journal = Record<string, JournalEntry>;

const KEEP_MS = 30 * 86_400_000;

export function journalPath(authPath: string): string {
  return join(dirname(authPath), `.${basename(authPath)}.refresh-journal`);
}

export function tokenHash(refreshToken: string): string {
  return nodeCrypto().createHash('sha256').update(refreshToken).digest('hex').slice(0, 32);
}

export async function readJournal(authPath: string): Promise<Journal> {
  try {
    const value = JSON.parse(await fsPromises().readFile(journalPath(authPath), 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Journal) : {};
  } catch {
    // Missing or damaged: it only explains failures, so starting empty is safe.
    return {};
  }
}

/** Sets (or with null removes) the entry for a token; drops entries older than 30 days. */
export async function updateJournal(authPath: string, hash: string, entry: JournalEntry | null, nowMs: number) {
  const journal = await readJournal(authPath);
  if (entry) journal[hash] = entry;
  else delete journal[hash];
  for (const [key, value] of Object.entries(journal)) {
    if (!(nowMs - Date.parse(value.at) < KEEP_MS)) delete journal[key];
  }
  if (Object.keys(journal).length === 0) {
    await fsPromises()
      .unlink(journalPath(authPath))
      .catch(() => {});
    return;
  }
  await writeFileAtomic(journalPath(authPath), JSON.stringify(journal, null, 2));
}
