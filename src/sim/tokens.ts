// JWT-shaped tokens (header.payload.sig, base64url) that real decoders and the real Codex CLI accept.
// They are not signed: nothing downstream verifies them, and a fake signature keeps the shape honest.
import { nodeCrypto } from '../runtime/crypto.ts';

export const SIM_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';
export const AUTH_CLAIM = 'https://api.openai.com/auth';
/** Real access tokens live about 10 days. */
export const ACCESS_TOKEN_TTL_SECONDS = 864_000;

export interface TokenSubject {
  accountId: string;
  userId: string;
  email: string;
  plan: string;
}

export interface TokenSet {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** Access token expiry, unix seconds (the JWT `exp`). */
  expiresAt: number;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function encodeJwt(payload: Record<string, unknown>): string {
  const header = { alg: 'RS256', typ: 'JWT', kid: 'codex-fleet-sim' };
  return `${b64url(header)}.${b64url(payload)}.${nodeCrypto().randomBytes(32).toString('base64url')}`;
}

/** Decodes the payload of a JWT-shaped token; null when it is not one. */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const value = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Mints a fresh id/access/refresh set; `expiresAt` may lie in the past (expired-token scenarios). */
export function mintTokens(subject: TokenSubject, nowSeconds: number, expiresAt: number): TokenSet {
  const auth = {
    chatgpt_plan_type: subject.plan,
    chatgpt_account_id: subject.accountId,
    chatgpt_user_id: subject.userId,
    user_id: subject.userId,
  };
  const common = { iss: 'https://auth.openai.com', sub: `auth0|${subject.userId}`, iat: nowSeconds, exp: expiresAt };
  const idToken = encodeJwt({
    ...common,
    aud: [SIM_CLIENT_ID],
    email: subject.email,
    email_verified: true,
    [AUTH_CLAIM]: auth,
  });
  const accessToken = encodeJwt({
    ...common,
    aud: ['https://api.openai.com/v1'],
    client_id: SIM_CLIENT_ID,
    jti: nodeCrypto().randomBytes(12).toString('hex'),
    scp: ['openid', 'profile', 'email', 'offline_access'],
    'https://api.openai.com/profile': { email: subject.email, email_verified: true },
    [AUTH_CLAIM]: auth,
  });
  const refreshToken = `rt_${nodeCrypto().randomBytes(24).toString('base64url')}`;
  return { idToken, accessToken, refreshToken, expiresAt };
}
