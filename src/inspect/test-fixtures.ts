// Builders for the inspect/ and actions/ table tests: real domain objects with defaults, so each
// table row states only what it is about.
import type { Account } from '../domain/account.ts';
import type { ProbeResult, QuotaSnapshot, QuotaWindow, WindowKind } from '../domain/quota.ts';

export const T0 = Date.parse('2026-01-01T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export function makeAccount(over: Partial<Account> = {}): Account {
  return {
    id: 'acct-1',
    name: 'alice',
    email: 'alice@example.com',
    plan: 'plus',
    accountId: 'acct-1',
    userId: null,
    format: 'cpa',
    sourceKind: 'auth-dir',
    sourcePath: '/tmp/alice.json',
    sourceIndex: null,
    disabled: false,
    credentials: {
      accessToken: 'eyJhbGciOiJIUzI1NiJ9.access.secret-token-value',
      refreshToken: 'rt_secret_refresh_token_value',
      idToken: null,
      accountId: 'acct-1',
      expiresAt: T0 + 10 * 24 * HOUR,
      lastRefresh: iso(T0 - HOUR),
    },
    addedAt: T0 - 30 * 24 * HOUR,
    lastUsed: T0 - 2 * HOUR,
    ...over,
  };
}

const SECONDS: Record<WindowKind, number> = { '5h': 18000, weekly: 604800, monthly: 2592000, other: 3600 };

export interface WindowSpec {
  kind: WindowKind;
  used: number | null;
  /** Seconds until reset, from `at`. */
  resetIn?: number | null;
  scope?: QuotaWindow['scope'];
}

export function makeWindow(spec: WindowSpec, at: number): QuotaWindow {
  const resetIn = spec.resetIn === undefined ? SECONDS[spec.kind] / 2 : spec.resetIn;
  return {
    kind: spec.kind,
    scope: spec.scope ?? (spec.kind === '5h' ? 'primary' : 'secondary'),
    limitName: null,
    usedPercent: spec.used,
    remainingPercent: spec.used == null ? null : 100 - spec.used,
    windowSeconds: SECONDS[spec.kind],
    resetAfterSeconds: resetIn,
    resetsAt: resetIn == null ? null : iso(at + resetIn * 1000),
  };
}

export function makeSnapshot(windows: WindowSpec[], at = T0, over: Partial<QuotaSnapshot> = {}): QuotaSnapshot {
  return {
    plan: 'plus',
    allowed: true,
    limitReached: false,
    rateLimitReachedType: null,
    windows: windows.map((w) => makeWindow(w, at)),
    credits: { hasCredits: null, unlimited: null, balance: null },
    fetchedAt: iso(at),
    ...over,
  };
}

export function okProbe(windows: WindowSpec[], at = T0, over: Partial<ProbeResult> = {}): ProbeResult {
  const snapshot = makeSnapshot(windows, at);
  const exhausted = windows.some((w) => w.used != null && w.used >= 100);
  if (exhausted) snapshot.limitReached = true;
  return {
    state: exhausted ? 'exhausted' : 'ok',
    reason: exhausted ? 'window_exhausted' : 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: null,
    snapshot,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: iso(at),
    attempts: 1,
    usagePath: '/wham/usage',
    ...over,
  };
}

export function failProbe(over: Partial<ProbeResult> & Pick<ProbeResult, 'state' | 'reason'>, at = T0): ProbeResult {
  return {
    httpStatus: null,
    errorCode: null,
    message: null,
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: iso(at),
    attempts: 1,
    usagePath: '/wham/usage',
    ...over,
  };
}

/** The upstream answers of UPSTREAM.md §2, as classified probe results. */
export const PROBES = {
  cloudflare: (at = T0) =>
    failProbe(
      {
        state: 'unknown',
        reason: 'cloudflare_challenge',
        httpStatus: 403,
        message: 'Just a moment...',
        transient: true,
      },
      at,
    ),
  timeout: (at = T0) => failProbe({ state: 'unknown', reason: 'timeout', transient: true }, at),
  overloaded: (at = T0) =>
    failProbe(
      {
        state: 'unknown',
        reason: 'server_overloaded',
        httpStatus: 503,
        errorCode: 'server_is_overloaded',
        transient: true,
      },
      at,
    ),
  throttled: (at = T0) =>
    failProbe({ state: 'unknown', reason: 'throttled', httpStatus: 429, retryAfterSeconds: 30, transient: true }, at),
  authExpired: (at = T0) => failProbe({ state: 'auth_expired', reason: 'access_token_expired', httpStatus: 401 }, at),
  authInvalid: (at = T0) =>
    failProbe({ state: 'auth_invalid', reason: 'auth_invalid', httpStatus: 401, errorCode: 'token_invalidated' }, at),
  refreshDead: (code = 'refresh_token_reused', at = T0) =>
    failProbe(
      {
        state: 'auth_invalid',
        reason: 'refresh_token_dead',
        httpStatus: 401,
        errorCode: code,
        message: 'Your session has ended. Please sign in again.',
      },
      at,
    ),
  deactivated: (at = T0) =>
    failProbe(
      {
        state: 'workspace_deactivated',
        reason: 'deactivated_workspace',
        httpStatus: 402,
        errorCode: 'deactivated_workspace',
      },
      at,
    ),
  blocked: (at = T0) =>
    failProbe({ state: 'blocked', reason: 'account_blocked', httpStatus: 403, errorCode: 'account_deactivated' }, at),
  noCodex: (at = T0) =>
    failProbe(
      { state: 'no_codex', reason: 'usage_not_included', httpStatus: 429, errorCode: 'usage_not_included' },
      at,
    ),
  usageLimit: (resetIn: number | null, at = T0) =>
    failProbe(
      {
        state: 'exhausted',
        reason: 'usage_limit_reached',
        httpStatus: 429,
        errorCode: 'usage_limit_reached',
        resetAfterSeconds: resetIn,
      },
      at,
    ),
};
