export const AUTH_FILE_FORMATS = ['codex-cli', 'cpa', 'codex-quota', 'multi-auth'] as const;
export type AuthFileFormat = (typeof AUTH_FILE_FORMATS)[number];

export const ACCOUNT_SOURCE_KINDS = ['auth-dir', 'codex-home', 'multi-auth', 'cpa', 'manual'] as const;
export type AccountSourceKind = (typeof ACCOUNT_SOURCE_KINDS)[number];

export interface Credentials {
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  accountId: string | null;
  /** Access token expiry in ms since epoch (from JWT exp or the file's expiry field). */
  expiresAt: number | null;
  lastRefresh: string | null;
  /**
   * For tokens kept elsewhere (CPA keeps its own and `refreshToken` stays null here): whether that
   * file has a refresh token; null or absent when unknown.
   */
  remoteRefreshToken?: boolean | null;
}

/** Claims decoded (never verified) from an id/access token. */
export interface TokenClaims {
  exp: number | null;
  email: string | null;
  planType: string | null;
  accountId: string | null;
  /** `chatgpt_user_id`, else `user_id`, under the auth claim. */
  userId: string | null;
  /** The OIDC `sub`: the last resort for telling seats apart. */
  subject: string | null;
}

export interface Account {
  /**
   * Stable id, one per seat: `<workspace>:<user>` (see src/accounts/identity.ts), the bare workspace
   * id when nothing tells seats apart, else derived from the source (`src-…`, CPA: `cpa:<server>:<file>`).
   */
  id: string;
  /** Display name: file name without .auth.json / .json, or the multi-auth email. */
  name: string;
  email: string | null;
  plan: string | null;
  /**
   * The workspace: `chatgpt_account_id`, sent as ChatGPT-Account-Id. Every seat of a Team workspace
   * shares it (the name is the upstream's and the report's `accountId`).
   */
  accountId: string | null;
  /** The seat's user inside the workspace (`chatgpt_user_id`, else `user_id`/`sub`); null when unknown. */
  userId: string | null;
  format: AuthFileFormat;
  sourceKind: AccountSourceKind;
  /** File the credentials live in, and for multi-auth the index inside it. */
  sourcePath: string | null;
  sourceIndex: number | null;
  disabled: boolean;
  credentials: Credentials;
  addedAt: number | null;
  lastUsed: number | null;
}

/** Masks a secret to at most its first 4 and last 4 characters. Short secrets are fully masked. */
export function maskSecret(secret: string | null | undefined): string | null {
  if (secret == null || secret === '') return null;
  if (secret.length < 16) return '****';
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}
