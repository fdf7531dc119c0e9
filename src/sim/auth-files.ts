// Writes the simulator's accounts as auth files in every format of UPSTREAM.md §4, so the product
// reads them exactly as it would read a user's files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimAccount } from './account.ts';

export const AUTH_FILE_WRITE_FORMATS = ['cpa', 'codex-quota', 'codex-cli', 'multi-auth', 'mixed'] as const;
export type AuthFileWriteFormat = (typeof AUTH_FILE_WRITE_FORMATS)[number];
type SingleFormat = Exclude<AuthFileWriteFormat, 'mixed'>;

export interface WriteAuthFilesOptions {
  /** CPA files get `"expired":"2099-01-01T00:00:00Z"` instead of the real token expiry. */
  farExpiry?: boolean;
}

export const MULTI_AUTH_FILE = 'openai-codex-accounts.json';
const FAR_EXPIRY = '2099-01-01T00:00:00Z';

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export function cpaFile(a: SimAccount, opts: WriteAuthFilesOptions = {}) {
  return {
    type: 'codex',
    email: a.email,
    id_token: a.idToken,
    access_token: a.accessToken,
    refresh_token: a.refreshToken,
    account_id: a.id,
    last_refresh: a.lastRefresh,
    expired: opts.farExpiry ? FAR_EXPIRY : iso(a.expiresAt),
    disabled: false,
  };
}

export function codexCliFile(a: SimAccount) {
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: { id_token: a.idToken, access_token: a.accessToken, refresh_token: a.refreshToken, account_id: a.id },
    last_refresh: a.lastRefresh,
  };
}

export function codexQuotaFile(a: SimAccount) {
  return { access_token: a.accessToken, account_id: a.id };
}

export function multiAuthFile(accounts: SimAccount[]) {
  return {
    version: 3,
    accounts: accounts.map((a) => {
      const issued = Date.parse(a.lastRefresh);
      return {
        email: a.email,
        accountId: a.id,
        refreshToken: a.refreshToken,
        accessToken: a.accessToken,
        expiresAt: a.expiresAt * 1000,
        addedAt: issued,
        lastUsed: issued,
        enabled: true,
      };
    }),
    activeIndex: 0,
  };
}

/** The file name each single-account format uses. */
export function authFileName(a: SimAccount, format: Exclude<SingleFormat, 'multi-auth'>): string {
  if (format === 'cpa') return `codex-${a.email}.json`;
  if (format === 'codex-quota') return `${a.name}.auth.json`;
  return `${a.name}.json`;
}

async function writeJson(path: string, value: unknown): Promise<string> {
  // Secrets inside: owner-only, like the tools that write these files.
  await writeFile(path, JSON.stringify(value, null, 2), { mode: 0o600 });
  return path;
}

/** Writes auth files for `accounts` into `dir` (created if missing); returns the paths written. */
export async function writeAuthFiles(
  accounts: SimAccount[],
  dir: string,
  format: AuthFileWriteFormat,
  opts: WriteAuthFilesOptions = {},
): Promise<string[]> {
  if (!(AUTH_FILE_WRITE_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`unknown auth file format "${format}": use one of ${AUTH_FILE_WRITE_FORMATS.join(', ')}`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const order: SingleFormat[] = ['cpa', 'codex-quota', 'codex-cli', 'multi-auth'];
  const formatOf = (i: number): SingleFormat => (format === 'mixed' ? order[i % order.length] : format);
  const paths: string[] = [];
  const multi: SimAccount[] = [];
  for (const [i, a] of accounts.entries()) {
    const f = formatOf(i);
    if (f === 'multi-auth') multi.push(a);
    else if (f === 'cpa') paths.push(await writeJson(join(dir, authFileName(a, f)), cpaFile(a, opts)));
    else if (f === 'codex-quota') paths.push(await writeJson(join(dir, authFileName(a, f)), codexQuotaFile(a)));
    else paths.push(await writeJson(join(dir, authFileName(a, f)), codexCliFile(a)));
  }
  if (multi.length > 0) paths.push(await writeJson(join(dir, MULTI_AUTH_FILE), multiAuthFile(multi)));
  return paths;
}
