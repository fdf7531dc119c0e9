// Decodes JWT claims without verifying them: we only read facts (exp, email, plan, account id)
// that the upstream itself will verify. Garbage in gives null, never an exception.
import type { TokenClaims } from '../domain/account.ts';

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';

function decodeSegment(segment: string): unknown {
  try {
    const json = Buffer.from(segment.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Claims of a JWT (exp in seconds since epoch, as in the token), or null when it is not a JWT. */
export function decodeJwtClaims(token: string | null | undefined): TokenClaims | null {
  if (typeof token !== 'string') return null;
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts[1] === '') return null;
  const payload = decodeSegment(parts[1]);
  if (!isRecord(payload)) return null;
  const auth = isRecord(payload[AUTH_CLAIM]) ? payload[AUTH_CLAIM] : {};
  const profile = isRecord(payload[PROFILE_CLAIM]) ? payload[PROFILE_CLAIM] : {};
  const exp = typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp : null;
  return {
    exp,
    email: str(payload.email) ?? str(profile.email),
    planType: str(auth.chatgpt_plan_type),
    accountId: str(auth.chatgpt_account_id),
    userId: str(auth.chatgpt_user_id) ?? str(auth.user_id),
    subject: str(payload.sub),
  };
}

/** True/false when the token carries an exp claim, null when unknown (opaque token or no exp). */
export function isJwtExpired(token: string | null | undefined, nowMs: number, skewMs = 0): boolean | null {
  const exp = decodeJwtClaims(token)?.exp ?? null;
  if (exp == null) return null;
  return exp * 1000 <= nowMs + skewMs;
}
