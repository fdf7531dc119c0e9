// The one place that decides what an upstream answer means for an account (UPSTREAM.md §2).
// Pure: status, headers, body and a few facts in; state, reason and evidence out.
import type { AccountState, ProbeReason, QuotaSnapshot, QuotaWindow } from '../domain/quota.ts';
import { exhaustedText, reachedKindText, spendControlWindows, windowlessText } from '../domain/quota-reason.ts';
import { isCloudflareChallenge, looksLikeHtml } from './cloudflare.ts';
import { parseUsageBody, resetAfterSeconds as resetFrom } from './parse.ts';
import { type HeaderBag, headerValue } from './response-headers.ts';
import { parseRetryAfter } from './retry.ts';
import { sanitizeMessage } from './sanitize.ts';

/** Error codes of a refresh token that can never work again: only a new login helps. */
export const DEAD_REFRESH_CODES = [
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'invalid_grant',
] as const;

/** The token layer's code for an account that has no refresh token: only a new sign-in renews it. */
export const NO_REFRESH_TOKEN = 'no_refresh_token';

export interface RefreshFailure {
  errorCode: string | null;
  httpStatus: number | null;
  message?: string | null;
  /** True when the token layer found the refresh can never work (dead or missing token, pair lost). */
  final?: boolean;
}

export interface UpstreamAnswer {
  /** HTTP status, or null when no answer arrived (see failure). */
  status: number | null;
  headers?: HeaderBag | null;
  body?: string | null;
  failure?: 'timeout' | 'network' | null;
  failureMessage?: string | null;
  /** Whether the access token's JWT exp was already past (null: not a JWT / no exp). */
  tokenExpired?: boolean | null;
  /** True when this attempt used a token obtained by a refresh just now. */
  afterRefresh?: boolean;
  /** Set when the refresh triggered by a 401 failed. */
  refreshFailure?: RefreshFailure | null;
  /** A 200's snapshot when it does not come from the body (x-codex-* headers of /codex/responses). */
  snapshot?: QuotaSnapshot | null;
  now: number;
}

export interface Classification {
  state: AccountState;
  reason: ProbeReason;
  errorCode: string | null;
  message: string | null;
  transient: boolean;
  resetAfterSeconds: number | null;
  retryAfterSeconds: number | null;
  snapshot: QuotaSnapshot | null;
}

interface UpstreamError {
  code: string | null;
  /** Every code-like field (code, type), since upstream uses either for the same fact. */
  codes: string[];
  message: string | null;
  fields: Record<string, unknown>;
  isJson: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Finds code/type/message in the error shapes seen upstream: {error:{…}}, {error:"…"}, {detail:{…}}, {detail:"…"}. */
function readError(body: string | null | undefined): UpstreamError {
  const none: UpstreamError = { code: null, codes: [], message: null, fields: {}, isJson: false };
  if (!body) return none;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return none;
  }
  if (!isRecord(json)) return { ...none, isJson: true };
  for (const key of ['error', 'detail']) {
    const inner = json[key];
    if (isRecord(inner)) {
      const codes = [text(inner.code), text(inner.type), text(json.code)].filter((c): c is string => c != null);
      return {
        code: codes[0] ?? null,
        codes,
        message: text(inner.message) ?? text(json.message),
        fields: inner,
        isJson: true,
      };
    }
    if (text(inner)) {
      const value = text(inner)!;
      // `{"error":"invalid_grant"}` is a code; `{"detail":"Forbidden by policy"}` is a message.
      const isCode = /^[a-z0-9_.-]+$/.test(value);
      const code = isCode ? value : text(json.code);
      return {
        code,
        codes: code ? [code] : [],
        message: text(json.error_description) ?? text(json.message) ?? value,
        fields: json,
        isJson: true,
      };
    }
  }
  const codes = [text(json.code), text(json.type)].filter((c): c is string => c != null);
  return { code: codes[0] ?? null, codes, message: text(json.message), fields: json, isJson: true };
}

function result(
  state: AccountState,
  reason: ProbeReason,
  extra: Partial<Omit<Classification, 'state' | 'reason'>> = {},
): Classification {
  return {
    state,
    reason,
    errorCode: extra.errorCode ?? null,
    message: extra.message ?? null,
    transient: extra.transient ?? false,
    resetAfterSeconds: extra.resetAfterSeconds ?? null,
    retryAfterSeconds: extra.retryAfterSeconds ?? null,
    snapshot: extra.snapshot ?? null,
  };
}

const MAIN_SCOPES = new Set(['primary', 'secondary']);

/** The windows that block Codex requests right now: at 100%, or (when the flag says so) the fullest one. */
function blockingWindows(snapshot: QuotaSnapshot): QuotaWindow[] {
  const main = snapshot.windows.filter((w) => MAIN_SCOPES.has(w.scope));
  const full = main.filter((w) => w.usedPercent != null && w.usedPercent >= 100);
  if (full.length > 0 || !(snapshot.limitReached === true || snapshot.allowed === false)) return full;
  const known = main.filter((w) => w.usedPercent != null);
  if (known.length === 0) return [];
  const top = Math.max(...known.map((w) => w.usedPercent!));
  return known.filter((w) => w.usedPercent === top);
}

/** Seconds until a reached spend budget frees up: the reached budget's own reset, else unknown. */
function spendResetAfter(snapshot: QuotaSnapshot): number | null {
  const full = spendControlWindows(snapshot).filter((w) => w.usedPercent == null || w.usedPercent >= 100);
  const resets = (full.length ? full : spendControlWindows(snapshot).slice(0, 1))
    .map((w) => w.resetAfterSeconds)
    .filter((s): s is number => s != null);
  return resets.length > 0 ? Math.max(...resets) : null;
}

/**
 * A 200's snapshot → state. Order (UPSTREAM.md §2): a reached spend control; then the rate-limit flags
 * or a full main window (rate_limit_reached_type names which limit); then `rate_limit: null` (no
 * windows apply: ok); then a payload with no rate-limit data at all (unknown). A reached type without
 * `allowed: false` / `limit_reached: true` is kept as evidence (errorCode) only.
 */
function classifySnapshot(snapshot: QuotaSnapshot): Classification {
  const reachedKind = snapshot.rateLimitReachedType;
  if (snapshot.spendControlReached === true) {
    return result('exhausted', 'spend_control_reached', {
      errorCode: 'spend_control_reached',
      message: exhaustedText('spend_control_reached', null, snapshot),
      resetAfterSeconds: spendResetAfter(snapshot),
      snapshot,
    });
  }
  const blocking = blockingWindows(snapshot);
  const flagged = snapshot.limitReached === true || snapshot.allowed === false;
  if (flagged || blocking.length > 0) {
    const resets = blocking.map((w) => w.resetAfterSeconds).filter((s): s is number => s != null);
    const named = reachedKind && reachedKind !== 'unknown' ? reachedKindText(reachedKind) : null;
    return result('exhausted', flagged ? 'limit_reached' : 'window_exhausted', {
      errorCode: reachedKind,
      message: named ?? (flagged ? 'usage limit reached' : 'a quota window is at 100%'),
      resetAfterSeconds: resets.length > 0 ? Math.max(...resets) : null,
      snapshot,
    });
  }
  const main = snapshot.windows.filter((w) => MAIN_SCOPES.has(w.scope));
  const evidence = reachedKind ? { errorCode: reachedKind } : {};
  if (snapshot.windowless === true && main.length === 0) {
    return result('ok', 'no_rate_limit_windows', { ...evidence, message: windowlessText(snapshot), snapshot });
  }
  if (main.length === 0 && snapshot.allowed !== true && snapshot.limitReached !== false) {
    return result('unknown', 'malformed_response', {
      message: 'usage response carries no rate-limit data',
      transient: true,
      snapshot,
    });
  }
  const said = reachedKind ? `quota available; upstream names ${reachedKind}` : null;
  return result('ok', 'quota_available', { ...evidence, message: said, snapshot });
}

function classifyRefreshFailure(failure: RefreshFailure): Classification {
  const code = failure.errorCode;
  const message = sanitizeMessage(failure.message ?? null);
  // Nothing to refresh with: the access token is expired for good, and only a new sign-in helps.
  if (code === NO_REFRESH_TOKEN) {
    return result('auth_expired', 'access_token_expired', {
      errorCode: code,
      message: 'access token expired and there is no refresh token',
    });
  }
  if (failure.final || (code && (DEAD_REFRESH_CODES as readonly string[]).includes(code))) {
    return result('auth_invalid', 'refresh_token_dead', {
      errorCode: code,
      message: message ?? 'refresh token is dead',
    });
  }
  if (failure.httpStatus === 401) {
    return result('auth_invalid', 'auth_invalid', { errorCode: code, message: message ?? 'token refresh was refused' });
  }
  if (
    failure.httpStatus == null ||
    failure.httpStatus === 408 ||
    failure.httpStatus === 429 ||
    failure.httpStatus >= 500
  ) {
    return result('unknown', failure.httpStatus == null ? 'network_error' : 'server_error', {
      errorCode: code,
      message: message ?? 'token refresh failed transiently',
      transient: true,
    });
  }
  return result('auth_expired', 'access_token_expired', {
    errorCode: code,
    message: message ?? 'access token expired and could not be refreshed',
  });
}

export function classifyUpstreamAnswer(answer: UpstreamAnswer): Classification {
  if (answer.refreshFailure) return classifyRefreshFailure(answer.refreshFailure);
  if (answer.status == null || answer.failure) {
    const timeout = answer.failure === 'timeout';
    return result('unknown', timeout ? 'timeout' : 'network_error', {
      message: sanitizeMessage(answer.failureMessage ?? null) ?? (timeout ? 'request timed out' : 'network error'),
      transient: true,
    });
  }
  const { status } = answer;
  const headers = answer.headers ?? null;
  const body = answer.body ?? null;
  const retryAfterSeconds = parseRetryAfter(headerValue(headers, 'retry-after'), answer.now);

  if (status >= 200 && status < 300) {
    if (answer.snapshot) return classifySnapshot(answer.snapshot);
    const parsed = parseUsageBody(body, answer.now);
    if (!parsed.ok) {
      const why = looksLikeHtml(body) ? 'HTML page instead of JSON' : parsed.error;
      return result('unknown', 'malformed_response', { message: why, transient: true });
    }
    return classifySnapshot(parsed.snapshot);
  }

  if (isCloudflareChallenge(status, headers, body)) {
    return result('unknown', 'cloudflare_challenge', {
      message: 'Cloudflare challenge (says nothing about the account)',
      transient: true,
      retryAfterSeconds,
    });
  }

  const error = readError(body);
  const message = sanitizeMessage(error.message ?? error.code);
  const code = error.code;
  const has = (wanted: string) => error.codes.includes(wanted);

  switch (true) {
    case status === 401: {
      // A 401 that names the account, not the token: banned or closed; a new sign-in cannot fix it.
      if (has('account_deactivated')) {
        return result('blocked', 'account_blocked', {
          errorCode: 'account_deactivated',
          message: message ?? 'the OpenAI account has been deactivated',
        });
      }
      // The token was revoked (signed out everywhere, password changed): a refresh will not bring it back.
      if (has('token_invalidated')) {
        return result('auth_invalid', 'auth_invalid', {
          errorCode: 'token_invalidated',
          message: message ?? 'access token invalidated',
        });
      }
      if (answer.afterRefresh) {
        return result('auth_invalid', 'auth_invalid', {
          errorCode: code,
          message: message ?? 'rejected after a fresh refresh',
        });
      }
      const saysExpired = error.codes.some((c) => c.includes('expired'));
      if (saysExpired || answer.tokenExpired !== false) {
        return result('auth_expired', 'access_token_expired', {
          errorCode: code,
          message: message ?? 'access token expired',
        });
      }
      return result('auth_invalid', 'auth_invalid', { errorCode: code, message: message ?? 'access token rejected' });
    }
    case status === 402:
      if (has('deactivated_workspace')) {
        return result('workspace_deactivated', 'deactivated_workspace', {
          errorCode: 'deactivated_workspace',
          message: message ?? 'workspace deleted or deactivated',
        });
      }
      return result('unknown', 'unexpected_status', { errorCode: code, message: message ?? 'HTTP 402' });
    case status === 403:
      if (error.isJson) {
        return result('blocked', 'account_blocked', { errorCode: code, message: message ?? 'forbidden' });
      }
      // A bare 403 without JSON evidence proves nothing about the account.
      return result('unknown', 'unexpected_status', { message: 'HTTP 403 without details', transient: true });
    case status === 404:
      return result('unknown', 'path_retired', { errorCode: code, message: 'usage path not found', transient: true });
    case status === 408:
      return result('unknown', 'timeout', {
        errorCode: code,
        message: message ?? 'HTTP 408',
        transient: true,
        retryAfterSeconds,
      });
    case status === 429: {
      if (has('usage_limit_reached')) {
        return result('exhausted', 'usage_limit_reached', {
          errorCode: 'usage_limit_reached',
          message: message ?? 'usage limit reached',
          resetAfterSeconds: resetFrom(error.fields, answer.now) ?? retryAfterSeconds,
          retryAfterSeconds,
        });
      }
      if (has('usage_not_included')) {
        return result('no_codex', 'usage_not_included', {
          errorCode: 'usage_not_included',
          message: message ?? 'plan does not include Codex',
        });
      }
      return result('unknown', 'throttled', {
        errorCode: code,
        message: message ?? 'throttled by the API',
        transient: true,
        retryAfterSeconds,
      });
    }
    case status >= 500 && status < 600: {
      const overloaded = status === 503 || error.codes.some((c) => c.includes('overloaded'));
      return result('unknown', overloaded ? 'server_overloaded' : 'server_error', {
        errorCode: code,
        message: message ?? `HTTP ${status}`,
        transient: true,
        retryAfterSeconds,
      });
    }
    default:
      return result('unknown', 'unexpected_status', { errorCode: code, message: message ?? `HTTP ${status}` });
  }
}

/** The plan named in a 429 usage_limit_reached body, for snapshots built from error answers. */
export function planFromErrorBody(body: string | null | undefined): string | null {
  const fields = readError(body).fields;
  const plan = text(fields.plan_type);
  return plan ? plan.toLowerCase() : null;
}
