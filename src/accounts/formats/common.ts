// Builds an Account from what a file holds, filling email / plan / account id from the JWT claims
// when the file does not say, and choosing the stable id (one per seat: src/accounts/identity.ts).

import type { Account, AccountSourceKind, AuthFileFormat } from '../../domain/account.ts';
import { nodeCrypto } from '../../runtime/crypto.ts';
import { decodeJwtClaims } from '../../upstream/jwt.ts';
import { seatIdentity } from '../identity.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** ISO / RFC 3339 text or epoch number (s or ms) to ms since epoch; null when absent or unreadable. */
export function toEpochMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return value < 1e12 ? value * 1000 : value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

/** Name shown to people: the file name without `.auth.json` / `.json`. */
export function nameFromFileName(fileName: string): string {
  return fileName.replace(/\.auth\.json$/i, '').replace(/\.json$/i, '');
}

/** Stable id when no ChatGPT account id is known: derived from where the credentials live. */
export function derivedId(sourceKind: AccountSourceKind, path: string, index: number | null): string {
  const key = `${sourceKind}:${path}${index == null ? '' : `#${index}`}`;
  return `src-${nodeCrypto().createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

export interface AccountFields {
  format: AuthFileFormat;
  sourceKind: AccountSourceKind;
  path: string;
  index: number | null;
  name: string;
  disabled: boolean;
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  accountId: string | null;
  email: string | null;
  /** Expiry the file states (ms), used only when the access token carries no exp. */
  fileExpiresAt: number | null;
  lastRefresh: string | null;
  addedAt: number | null;
  lastUsed: number | null;
}

export function buildAccount(f: AccountFields): Account {
  const idClaims = decodeJwtClaims(f.idToken);
  const accessClaims = decodeJwtClaims(f.accessToken);
  const seat = seatIdentity({ statedWorkspaceId: f.accountId, statedEmail: f.email, idClaims, accessClaims });
  const accountId = seat.workspaceId;
  const exp = accessClaims?.exp ?? null;
  return {
    id: seat.key ?? derivedId(f.sourceKind, f.path, f.index),
    name: f.name,
    email: seat.email,
    plan: idClaims?.planType ?? accessClaims?.planType ?? null,
    accountId,
    userId: seat.userId,
    format: f.format,
    sourceKind: f.sourceKind,
    sourcePath: f.path,
    sourceIndex: f.index,
    disabled: f.disabled,
    credentials: {
      accessToken: f.accessToken,
      refreshToken: f.refreshToken,
      idToken: f.idToken,
      accountId,
      // The token's own exp is authoritative; a file's expiry field may be stale.
      expiresAt: exp != null ? exp * 1000 : f.fileExpiresAt,
      lastRefresh: f.lastRefresh,
    },
    addedAt: f.addedAt,
    lastUsed: f.lastUsed,
  };
}

/** Expiry of a refreshed access token: its JWT exp, else now + expires_in. */
export function newExpiryMs(update: {
  accessToken: string;
  expiresIn: number | null;
  refreshedAt: Date;
}): number | null {
  const exp = decodeJwtClaims(update.accessToken)?.exp;
  if (exp != null) return exp * 1000;
  if (update.expiresIn != null) return update.refreshedAt.getTime() + update.expiresIn * 1000;
  return null;
}

/**
 * Reads a one-account file whose tokens sit at the top level (CLIProxyAPI and codex-quota files): the
 * two formats differ only in how they are detected and how they write an expiry back.
 */
export function readFlatTokenFile(
  doc: unknown,
  ctx: { sourceKind: AccountSourceKind; path: string; name: string },
  format: 'cpa' | 'codex-quota',
  fileExpiry: unknown,
): { accounts: Account[]; problems: Array<{ index: null; message: string }> } {
  if (!isRecord(doc)) return { accounts: [], problems: [{ index: null, message: 'not a JSON object' }] };
  const accessToken = str(doc.access_token);
  const refreshToken = str(doc.refresh_token);
  if (accessToken == null && refreshToken == null) {
    return { accounts: [], problems: [{ index: null, message: 'has neither access_token nor refresh_token' }] };
  }
  const account = buildAccount({
    format,
    sourceKind: ctx.sourceKind,
    path: ctx.path,
    index: null,
    name: ctx.name,
    disabled: doc.disabled === true,
    accessToken,
    refreshToken,
    idToken: str(doc.id_token),
    accountId: str(doc.account_id),
    email: str(doc.email),
    fileExpiresAt: toEpochMs(fileExpiry),
    lastRefresh: str(doc.last_refresh),
    addedAt: null,
    lastUsed: null,
  });
  return { accounts: [account], problems: [] };
}
