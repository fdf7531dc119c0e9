// OAuth refresh client for auth.openai.com (UPSTREAM.md §3): the same request the Codex CLI sends,
// and a classification of the answer. Errors are values: a dead refresh token is `permanent`
// (sign in again), anything the server or network may fix later is not.
import { ORIGINATOR, userAgent } from './headers.ts';
import { sanitizeMessage } from './sanitize.ts';

export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** Upstream codes that mean the refresh token can never work again. */
export const PERMANENT_REFRESH_CODES = [
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'invalid_grant',
] as const;

export interface RefreshRequest {
  authUrl: string;
  refreshToken: string;
  timeoutMs: number;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

export interface RefreshedTokens {
  accessToken: string;
  /** null when the answer did not rotate it (then the old one stays valid). */
  refreshToken: string | null;
  idToken: string | null;
  expiresIn: number | null;
}

export type RefreshOutcome =
  | { ok: true; tokens: RefreshedTokens }
  | { ok: false; permanent: boolean; code: string; httpStatus: number | null; message: string };

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** sanitizeMessage, plus refresh tokens (`rt_…`), which its rules do not cover yet. */
function clean(v: unknown): string | null {
  return sanitizeMessage(v)?.replace(/\brt_[\w-]{4,}/g, 'rt_***') ?? null;
}

/** The error code and message of a token endpoint error body, both sanitized; null when none found. */
export function parseOAuthError(body: string): { code: string | null; message: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { code: null, message: null };
  }
  const top = record(json);
  if (!top) return { code: null, message: null };
  const nested = record(top.error);
  if (nested) {
    return {
      code: text(nested.code) ?? text(nested.type),
      message: clean(nested.message),
    };
  }
  return { code: text(top.error) ?? text(top.code), message: clean(top.error_description ?? top.message) };
}

/** Pure classification of a non-2xx answer. */
export function classifyRefreshFailure(status: number, body: string): Exclude<RefreshOutcome, { ok: true }> {
  const { code, message } = parseOAuthError(body);
  if (code && (PERMANENT_REFRESH_CODES as readonly string[]).includes(code)) {
    return {
      ok: false,
      permanent: true,
      code,
      httpStatus: status,
      message: message ?? `refresh token is dead (${code})`,
    };
  }
  if (status === 401) {
    // §2: a refresh that fails 401 means the credentials are invalid, whatever the code says.
    return {
      ok: false,
      permanent: true,
      code: code ?? 'unauthorized',
      httpStatus: status,
      message: message ?? 'the token endpoint refused the refresh token (401)',
    };
  }
  const transient = status === 408 || status === 429 || status >= 500 || status === 403;
  const what = status === 403 && /<html|just a moment/i.test(body) ? 'Cloudflare challenge' : `HTTP ${status}`;
  return {
    ok: false,
    permanent: false,
    code: code ?? `http_${status}`,
    httpStatus: status,
    message: message ?? `token endpoint answered ${what}${transient ? ' (temporary: old tokens kept)' : ''}`,
  };
}

/** POSTs the refresh; never throws. */
export async function refreshTokens(req: RefreshRequest): Promise<RefreshOutcome> {
  const doFetch = req.fetch ?? fetch;
  const body = JSON.stringify({
    client_id: CODEX_CLIENT_ID,
    grant_type: 'refresh_token',
    // The only value the real CLI was seen sending; unknown values might be refused upstream.
    refresh_reason: 'proactive_expiry',
    refresh_token: req.refreshToken,
  });
  let response: Response;
  let raw: string;
  try {
    response = await doFetch(req.authUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        originator: ORIGINATOR,
        'user-agent': userAgent(),
      },
      body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    raw = await response.text();
  } catch (error) {
    const name = (error as Error)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    return {
      ok: false,
      permanent: false,
      code: timedOut ? 'timeout' : 'network_error',
      httpStatus: null,
      message: timedOut
        ? `token endpoint did not answer within ${req.timeoutMs} ms (old tokens kept)`
        : `cannot reach the token endpoint ${safeUrl(req.authUrl)} (old tokens kept)`,
    };
  }
  if (!response.ok) return classifyRefreshFailure(response.status, raw);
  let json: Record<string, unknown> | null = null;
  try {
    json = record(JSON.parse(raw));
  } catch {
    json = null;
  }
  const accessToken = text(json?.access_token);
  if (!json || !accessToken) {
    return {
      ok: false,
      permanent: false,
      code: 'malformed_response',
      httpStatus: response.status,
      message: 'token endpoint answered 200 without an access_token (old tokens kept)',
    };
  }
  const expiresIn = typeof json.expires_in === 'number' && Number.isFinite(json.expires_in) ? json.expires_in : null;
  return {
    ok: true,
    tokens: { accessToken, refreshToken: text(json.refresh_token), idToken: text(json.id_token), expiresIn },
  };
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
