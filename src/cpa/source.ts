// CPA as an account source: the codex auth files a CPA server lists become `Account`s (sourceKind
// 'cpa'), carrying what server inspection and the executors need (server, file name, auth_index,
// CPA's status). Tokens stay in CPA: credentials are left empty. Optionally each file is downloaded
// once to learn its ChatGPT account id, plan and expiry; the tokens in it are dropped at once.
import pLimit from 'p-limit';
import type { Account } from '../domain/account.ts';
import { decodeJwtClaims } from '../upstream/jwt.ts';
import type { CpaClient } from './client.ts';
import type { CpaAuthFile, CpaResult } from './types.ts';

export interface CpaAccountRef {
  /** Configured CPA server name. */
  server: string;
  /** Auth file name on that server (the handle for PATCH status / DELETE). */
  fileName: string;
  authIndex: string | null;
  /** CPA's own view: active, disabled, error, … with its message. */
  status: string | null;
  statusMessage: string | null;
  unavailable: boolean;
}

export interface CpaAccount extends Account {
  cpa: CpaAccountRef;
}

/** Non-secret facts read from a downloaded auth file. */
export interface CpaFileDetails {
  accountId: string | null;
  /** The seat's user (chatgpt_user_id / user_id / sub): one CPA file per seat of a Team workspace. */
  userId: string | null;
  plan: string | null;
  email: string | null;
  /** Access token expiry in ms since epoch, from the file's "expired" field. */
  expiresAt: number | null;
  lastRefresh: string | null;
  /** Whether the file holds a refresh token (so CPA can renew the access token); null when unknown. */
  hasRefreshToken?: boolean | null;
}

export function isCodexAuthFile(file: CpaAuthFile): boolean {
  return (file.type ?? file.provider ?? '').toLowerCase() === 'codex';
}

/** Stable across runs and independent of whether details were fetched: server + file name. */
export function cpaAccountId(server: string, fileName: string): string {
  return `cpa:${server}:${fileName}`;
}

export function accountFromAuthFile(
  server: string,
  file: CpaAuthFile,
  details: CpaFileDetails | null = null,
): CpaAccount {
  return {
    id: cpaAccountId(server, file.name),
    name: file.name.replace(/\.json$/i, ''),
    email: file.email ?? details?.email ?? null,
    plan: details?.plan ?? null,
    accountId: details?.accountId ?? null,
    userId: details?.userId ?? null,
    format: 'cpa',
    sourceKind: 'cpa',
    sourcePath: null,
    sourceIndex: null,
    disabled: file.disabled,
    credentials: {
      accessToken: null,
      refreshToken: null,
      idToken: null,
      accountId: details?.accountId ?? null,
      expiresAt: details?.expiresAt ?? null,
      lastRefresh: details?.lastRefresh ?? file.lastRefresh ?? null,
      remoteRefreshToken: details?.hasRefreshToken ?? null,
    },
    addedAt: null,
    lastUsed: null,
    cpa: {
      server,
      fileName: file.name,
      authIndex: file.authIndex,
      status: file.status,
      statusMessage: file.statusMessage,
      unavailable: file.unavailable,
    },
  };
}

/** Pure: the non-secret facts of a CPA codex auth file's text; null when it is not a JSON object. */
export function detailsFromAuthFileText(text: string): CpaFileDetails | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return null;
  const f = json as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const claims = decodeJwtClaims(str(f.id_token)) ?? decodeJwtClaims(str(f.access_token));
  const expired = str(f.expired);
  const expiresMs = expired ? Date.parse(expired) : Number.NaN;
  return {
    accountId: str(f.account_id) ?? claims?.accountId ?? null,
    userId: claims?.userId ?? claims?.subject ?? null,
    plan: claims?.planType ?? null,
    email: str(f.email) ?? claims?.email ?? null,
    expiresAt: Number.isFinite(expiresMs) ? expiresMs : claims?.exp != null ? claims.exp * 1000 : null,
    lastRefresh: str(f.last_refresh),
    hasRefreshToken: str(f.refresh_token) != null,
  };
}

export interface LoadCpaAccountsOptions {
  /** Download each file once for account id / plan / expiry (one key check each). Default false. */
  withDetails?: boolean;
  /** Parallel downloads; default 4 (each costs CPA a ~60 ms bcrypt check). */
  concurrency?: number;
}

/** The codex accounts on one CPA server. A file whose download fails keeps its listing facts. */
export async function loadCpaAccounts(
  client: CpaClient,
  options: LoadCpaAccountsOptions = {},
): Promise<CpaResult<CpaAccount[]>> {
  const listed = await client.listAuthFiles();
  if (!listed.ok) return listed;
  const files = listed.value.filter(isCodexAuthFile);
  if (!options.withDetails) return { ok: true, value: files.map((f) => accountFromAuthFile(client.name, f)) };
  const limit = pLimit(Math.max(1, Math.min(options.concurrency ?? 4, 16)));
  const accounts = await Promise.all(
    files.map((f) =>
      limit(async () => {
        if (client.breaker().open) return accountFromAuthFile(client.name, f);
        const text = await client.downloadAuthFile(f.name);
        return accountFromAuthFile(client.name, f, text.ok ? detailsFromAuthFileText(text.value) : null);
      }),
    ),
  );
  // A 401 in the middle means the key went bad: say so rather than hand back half-filled accounts.
  if (client.breaker().open) {
    return {
      ok: false,
      error: {
        kind: 'breaker_open',
        server: client.name,
        status: null,
        message: `CPA server "${client.name}": ${client.breaker().reason}`,
      },
    };
  }
  return { ok: true, value: accounts };
}
