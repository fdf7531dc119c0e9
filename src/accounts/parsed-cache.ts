// The parsed-account cache: what each auth file held, keyed by its path and by what stat(2) says about it
// (size, mtime and ctime in nanoseconds, inode, device), so a run over 1000 unchanged files stats them
// instead of reading and parsing them. It holds no secret: every token is masked (maskSecret) before it
// is kept, so the accounts it returns are for reading state (reports, metrics, forecasts: they test only
// whether a token is there), never for talking to upstream. The files stay the truth:
//  - any difference in the stat key re-reads the file; ctime cannot be set back by a writer (utimes
//    sets mtime only), and an atomic rename gives a new inode;
//  - a file modified within FRESH_MS of now is always re-read and never cached: a second write inside
//    the file system's timestamp granularity could keep every field of the key and change the content;
//  - a file that changed while it was read (stat before and after differ) is not cached.
// Only a file stat can see is cached; errors about missing or unreadable files are read every time.
import type { BigIntStats } from 'node:fs';
import { type Account, type AccountSourceKind, type AuthFileFormat, maskSecret } from '../domain/account.ts';
import { fs } from '../runtime/fs.ts';
import { type FileLoader, readFileLoad } from './sources/file-load.ts';
import type { AccountLoad } from './sources/types.ts';

const { statSync } = fs;

/** Files modified this recently (ms) are re-read on every run. */
export const FRESH_MS = 2_000;
const VERSION = 1;

interface Entry {
  /** `size:mtimeNs:ctimeNs:ino:dev`. */
  stat: string;
  kind: AccountSourceKind;
  expected: AuthFileFormat | null;
  load: AccountLoad;
}

interface Stored {
  version: number;
  entries: Array<[string, Entry]>;
}

/** A token's mask keeps what state readers ask (is there one?) and nothing that could be used. */
function maskToken(token: string | null): string | null {
  return token == null ? null : (maskSecret(token) ?? '');
}

/** The account without usable tokens. */
export function withMaskedTokens(a: Account): Account {
  const c = a.credentials;
  return {
    ...a,
    credentials: {
      ...c,
      accessToken: maskToken(c.accessToken),
      refreshToken: maskToken(c.refreshToken),
      idToken: maskToken(c.idToken),
    },
  };
}

function masked(load: AccountLoad): AccountLoad {
  return { accounts: load.accounts.map(withMaskedTokens), errors: load.errors };
}

function statKey(st: BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
}

function statOf(path: string): BigIntStats | null {
  try {
    const st = statSync(path, { bigint: true });
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

export class ParsedFileCache {
  readonly #old: Map<string, Entry>;
  readonly #next = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #read: FileLoader;
  #rewritten = false;
  /** For tests and the docs: how many files were answered from the cache and how many were read. */
  readonly stats = { hits: 0, reads: 0 };

  /** stored: what toJSON() returned on an earlier run (anything else starts empty). now: wall-clock ms. */
  constructor(stored: unknown, options: { now?: () => number; read?: FileLoader } = {}) {
    const s = stored as Stored | null;
    this.#old = new Map(s && s.version === VERSION && Array.isArray(s.entries) ? s.entries : []);
    this.#now = options.now ?? Date.now;
    this.#read = options.read ?? readFileLoad;
  }

  /** A FileLoader for the account sources; the accounts it returns have masked tokens. */
  readonly loadFile: FileLoader = async (path, kind, expected) => {
    const before = statOf(path);
    const fresh = (st: BigIntStats) => Math.abs(this.#now() - Number(st.mtimeNs / 1_000_000n)) < FRESH_MS;
    const old = this.#old.get(path);
    if (before && !fresh(before) && old) {
      if (old.stat === statKey(before) && old.kind === kind && old.expected === (expected ?? null)) {
        this.stats.hits++;
        this.#next.set(path, old);
        return old.load;
      }
    }
    this.stats.reads++;
    const load = masked(await this.#read(path, kind, expected));
    const after = statOf(path);
    if (before && after && statKey(before) === statKey(after) && !fresh(after)) {
      // A copy: the caller's objects must not be what is stored.
      this.#next.set(path, { stat: statKey(after), kind, expected: expected ?? null, load: structuredClone(load) });
      this.#rewritten = true;
    } else if (old) {
      this.#rewritten = true;
    }
    return load;
  };

  /** True when what toJSON() returns differs from what the constructor was given. */
  get changed(): boolean {
    return this.#rewritten || this.#next.size !== this.#old.size;
  }

  /** Every file seen in this run (files not seen are forgotten). */
  toJSON(): Stored {
    return { version: VERSION, entries: [...this.#next] };
  }
}
