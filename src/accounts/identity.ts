// Who an account is: a ChatGPT workspace (`chatgpt_account_id`, sent as ChatGPT-Account-Id) plus the
// seat's user inside it. Every seat of a Team/Business workspace shares the workspace id but has its own
// user, tokens and usage limits, so the workspace id alone collapses seats. Pure: claims in, key out.

import type { TokenClaims } from '../domain/account.ts';
import { nodeCrypto } from '../runtime/crypto.ts';

export interface IdentityInput {
  /** The workspace id the file states (`account_id` / `tokens.account_id` / `accountId`). */
  statedWorkspaceId: string | null;
  /** The email the file states. */
  statedEmail: string | null;
  idClaims: TokenClaims | null;
  accessClaims: TokenClaims | null;
}

export interface SeatIdentity {
  /** `chatgpt_account_id`: what is sent as ChatGPT-Account-Id. Null when neither file nor token says. */
  workspaceId: string | null;
  /** The seat's user: `chatgpt_user_id`, else `user_id`, else `sub` (id token first, then access token). */
  userId: string | null;
  email: string | null;
  /**
   * The account key: `<workspace>:<user>`, else `<workspace>:e-<hash of the lower-case email>` (ids end
   * up in URLs and metric labels, where emails only go when the operator opts in), else the bare
   * workspace id (nothing tells seats apart; that is also what every id looked like before seats).
   * Null without a workspace id: the caller derives one from where the file lives.
   */
  key: string | null;
}

export function seatIdentity(input: IdentityInput): SeatIdentity {
  const { idClaims, accessClaims } = input;
  const workspaceId = input.statedWorkspaceId ?? idClaims?.accountId ?? accessClaims?.accountId ?? null;
  // The ChatGPT user claim (chatgpt_user_id, else user_id) in either token beats the OIDC sub.
  const userId = idClaims?.userId ?? accessClaims?.userId ?? idClaims?.subject ?? accessClaims?.subject ?? null;
  const email = input.statedEmail ?? idClaims?.email ?? accessClaims?.email ?? null;
  return { workspaceId, userId, email, key: accountKey(workspaceId, userId, email) };
}

export function accountKey(workspaceId: string | null, userId: string | null, email: string | null): string | null {
  if (workspaceId == null) return null;
  if (userId != null) return `${workspaceId}:${userId}`;
  if (email != null) return `${workspaceId}:e-${emailHash(email)}`;
  return workspaceId;
}

/** 16 hex digits of the SHA-256 of the trimmed, lower-case email: stable, and not the email. */
export function emailHash(email: string): string {
  return nodeCrypto().createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 16);
}

/** The workspace part of an account key (a `src-…`/`cpa:…` id has none of its own: null). */
export function workspaceOfKey(key: string): string | null {
  if (key.startsWith('src-') || key.startsWith('cpa:')) return null;
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}
