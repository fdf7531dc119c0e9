// Which accounts exist: the configured auth directory, the sources named in the config, and every file
// an operator imported earlier (the store remembers its path). The default ./account missing is no local
// accounts (a fresh install, or an operator whose accounts all live on CPA); a directory the operator
// named (--account-dir, CODEX_FLEET_ACCOUNT_DIR) that is missing is an error naming it, because showing
// only the accounts the store remembers would hide the typo.
import { dirname, resolve, sep } from 'node:path';
import { resolveDuplicates } from '../accounts/duplicates.ts';
import type { AccountLoadError } from '../accounts/formats/index.ts';
import { readJournal, tokenHash } from '../accounts/refresh-journal.ts';
import {
  type AccountSource,
  authDirSource,
  codexHomeSource,
  type FileLoader,
  loadAll,
  multiAuthSource,
  readFileLoad,
} from '../accounts/sources/index.ts';
import type { Account } from '../domain/account.ts';
import { fs } from '../runtime/fs.ts';
import type { StoredAccount } from '../store/index.ts';
import type { FleetConfig } from './config.ts';

const { existsSync } = fs;

/** The account directory was named explicitly and does not exist. */
export class AccountDirMissingError extends Error {
  override name = 'AccountDirMissingError';
  readonly path: string;
  constructor(path: string) {
    super(
      `account directory ${path} does not exist (given by --account-dir or CODEX_FLEET_ACCOUNT_DIR): create it or fix the path`,
    );
    this.path = path;
  }
}

export interface AccountLoadResult {
  accounts: Account[];
  errors: AccountLoadError[];
}

function importedFileSource(path: string, kind: Account['sourceKind'], loadFile: FileLoader): AccountSource {
  return { kind, location: path, load: () => loadFile(path, kind) };
}

/**
 * Copies whose refresh token their journal marks dead; journals are read only for ids seen twice. With
 * masked tokens (the parsed-account cache) such a copy's file is read again for the token's hash.
 */
async function deadCopies(accounts: readonly Account[], tokensMasked: boolean): Promise<Set<Account>> {
  const count = new Map<string, number>();
  for (const a of accounts) count.set(a.id, (count.get(a.id) ?? 0) + 1);
  const dead = new Set<Account>();
  for (const a of accounts) {
    if ((count.get(a.id) ?? 0) < 2 || !a.sourcePath || !a.credentials.refreshToken) continue;
    const token = tokensMasked
      ? (await readFileLoad(a.sourcePath, a.sourceKind)).accounts.find((x) => x.sourceIndex === a.sourceIndex)
          ?.credentials.refreshToken
      : a.credentials.refreshToken;
    if (!token) continue;
    const journal = await readJournal(a.sourcePath);
    if (journal[tokenHash(token)]?.state === 'dead') dead.add(a);
  }
  return dead;
}

export interface LoadOptions {
  /** How each file is read (default: read and parse it); the parsed-account cache's loader skips unchanged files. */
  loadFile?: FileLoader;
  /** True when loadFile returns masked tokens (the cache): such accounts only serve to read state. */
  tokensMasked?: boolean;
}

export async function loadAccounts(
  config: FleetConfig,
  /** Where the store's local accounts were read from: files imported from elsewhere are read again. */
  stored: readonly Pick<StoredAccount, 'sourcePath' | 'sourceKind'>[],
  now: number = Date.now(),
  options: LoadOptions = {},
): Promise<AccountLoadResult> {
  const loadFile = options.loadFile ?? readFileLoad;
  const sources: AccountSource[] = [];
  const accountDir = resolve(config.accountDir);
  if (existsSync(accountDir)) sources.push(authDirSource(accountDir, loadFile));
  else if (config.accountDirExplicit) throw new AccountDirMissingError(accountDir);
  if (config.codexHome && existsSync(resolve(config.codexHome, 'auth.json')))
    sources.push(codexHomeSource(config.codexHome, loadFile));
  if (config.multiAuthFile) sources.push(multiAuthSource(config.multiAuthFile, loadFile));
  const covered = new Set(sources.map((s) => s.location));
  const imported = new Set<string>();
  const inDir = accountDir + sep;
  for (const account of stored) {
    if (!account.sourcePath || account.sourceKind === 'cpa') continue;
    // Most stored paths are files of the account directory, stored resolved: skip them before resolve(),
    // which costs more than the rest of this loop over 1000 accounts.
    if (account.sourcePath.startsWith(inDir) && !account.sourcePath.includes(`${sep}..`)) continue;
    const path = resolve(account.sourcePath);
    const inAccountDir = dirname(path) === accountDir || path.startsWith(accountDir + sep);
    if (inAccountDir || covered.has(path) || imported.has(path)) continue;
    imported.add(path);
    sources.push(importedFileSource(path, account.sourceKind, loadFile));
  }
  const load = await loadAll(sources);
  // The same seat can sit in two files (imported twice, a CLI auth.json and a CPA copy): the usable or
  // newest copy wins, and the other is reported like any file that was not used.
  const ids = new Set<string>();
  for (const a of load.accounts) ids.add(a.id);
  if (ids.size === load.accounts.length) return load; // no seat twice: nothing to choose between
  const dead = await deadCopies(load.accounts, options.tokensMasked === true);
  const { accounts, duplicates } = resolveDuplicates(load.accounts, { now, isDead: (a) => dead.has(a) });
  const skipped = duplicates.map((d) => ({
    path: d.dropped.sourcePath ?? '',
    index: d.dropped.sourceIndex,
    format: d.dropped.format,
    message: d.message,
  }));
  return { accounts, errors: [...load.errors, ...skipped] };
}
