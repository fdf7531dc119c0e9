// Probes one account's quota over GET {base}/…/usage: path fallback, classification, one refresh on
// an expired token, and backoff retries on transient failures. Never throws: errors are results.
import type { ProbeResult, QuotaSnapshot } from '../domain/quota.ts';
import { type Clock, systemClock } from '../domain/time.ts';
import { type Classification, classifyUpstreamAnswer, planFromErrorBody, type RefreshFailure } from './classify.ts';
import { usageRequestHeaders, userAgent } from './headers.ts';
import { DEFAULT_TIMEOUT_MS, type FetchLike, fetchAnswer, type HttpAnswer } from './http.ts';
import { isJwtExpired } from './jwt.ts';
import { headersToRecord } from './response-headers.ts';
import { DEFAULT_BACKOFF, isRetryableReason, nextRetryDelayMs, realSleep, type Sleep } from './retry.ts';
import { sanitizeMessage } from './sanitize.ts';
import {
  candidateUsagePaths,
  rememberUsagePath,
  shouldTryNextPath,
  type UsagePathMemory,
  usageUrl,
} from './usage-paths.ts';

export interface ProbeTarget {
  accessToken: string | null;
  accountId: string | null;
  /**
   * The token's expiry (ms) when the token itself cannot tell (CPA's `$TOKEN$` placeholder: the expiry
   * comes from CPA's auth file); null when unknown. Left out, a JWT's own exp decides.
   */
  expiresAt?: number | null;
}

/** Whether the token in use had expired: the target's known expiry for its own token, else the JWT's exp. */
function tokenExpired(target: ProbeTarget, token: string, now: number): boolean | null {
  if (target.expiresAt !== undefined && token === target.accessToken) {
    return target.expiresAt == null ? null : target.expiresAt <= now;
  }
  return isJwtExpired(token, now);
}

/** The token layer's refresh hook: a new access token, null when no refresh is possible, or why it failed. */
export type UnauthorizedHandler = () => Promise<string | null | RefreshFailure>;

export interface ProbeOptions {
  /** Base URL, e.g. https://chatgpt.com/backend-api. */
  chatgptUrl: string;
  /** Retries after the first attempt, for transient failures only. Default 3. */
  retries?: number;
  /** First backoff delay (doubles per retry, full jitter). Default 2000. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Per request deadline (the resolved config's timeoutMs). Default 15000. */
  timeoutMs?: number;
  /** Shared across probes so one discovery of a retired path serves every account. */
  pathMemory?: UsagePathMemory;
  fetch?: FetchLike;
  clock?: Clock;
  random?: () => number;
  sleep?: Sleep;
  /** Keep the final raw answer for --raw-json / --raw-headers. It may hold personal data: never log it. */
  captureRaw?: boolean;
  onUnauthorized?: UnauthorizedHandler;
  userAgent?: string;
}

export interface RawAnswer {
  status: number | null;
  headers: Record<string, string>;
  body: string | null;
}

export interface ProbeOutcome extends ProbeResult {
  raw?: RawAnswer;
}

/** What one attempt produced: the HTTP answer, which path, and a snapshot when not in the body. */
export interface AttemptAnswer {
  http: HttpAnswer;
  usagePath: string | null;
  snapshot?: QuotaSnapshot | null;
}

export type Attempt = (accessToken: string) => Promise<AttemptAnswer>;

interface Resolved {
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  timeoutMs: number;
  fetch: FetchLike;
  clock: Clock;
  random: () => number;
  sleep: Sleep;
  userAgent: string;
}

export function resolveProbeOptions(options: ProbeOptions): Resolved {
  const retries = Number.isInteger(options.retries) && options.retries! >= 0 ? options.retries! : 3;
  const delay = Number.isFinite(options.retryDelayMs) && options.retryDelayMs! >= 0 ? options.retryDelayMs! : 2000;
  const timeout =
    Number.isFinite(options.timeoutMs) && options.timeoutMs! > 0 ? options.timeoutMs! : DEFAULT_TIMEOUT_MS;
  return {
    retries,
    retryDelayMs: delay,
    maxRetryDelayMs: options.maxRetryDelayMs ?? Math.max(DEFAULT_BACKOFF.maxDelayMs, delay),
    timeoutMs: timeout,
    fetch: options.fetch ?? fetch,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? realSleep,
    userAgent: options.userAgent ?? userAgent(),
  };
}

/** Statuses that prove a path is served by the API (even if this account is refused). */
const PATH_ALIVE = (status: number | null) =>
  status != null && ((status >= 200 && status < 300) || status === 401 || status === 402 || status === 429);

/** GET usage with path fallback: the first conclusive answer, else the most telling refusal (403 over 404). */
function usageAttempt(target: ProbeTarget, options: ProbeOptions, r: Resolved): Attempt {
  return async (accessToken) => {
    const headers = usageRequestHeaders({ accessToken, accountId: target.accountId }, r.userAgent);
    let fallback: AttemptAnswer | null = null;
    for (const path of candidateUsagePaths(options.chatgptUrl, options.pathMemory)) {
      const http = await fetchAnswer(
        usageUrl(options.chatgptUrl, path),
        { method: 'GET', headers },
        r.timeoutMs,
        r.fetch,
      );
      if (!shouldTryNextPath(http.status, http.headers, http.body)) {
        if (options.pathMemory && PATH_ALIVE(http.status))
          rememberUsagePath(options.pathMemory, options.chatgptUrl, path);
        return { http, usagePath: path };
      }
      if (!fallback || (fallback.http.status === 404 && http.status === 403)) fallback = { http, usagePath: path };
    }
    return fallback!;
  };
}

/** When the last full main window resets: capacity returns only when every full window has reset. */
function latestFullWindowReset(snapshot: QuotaSnapshot): number | null {
  const resets = snapshot.windows
    .filter((w) => (w.scope === 'primary' || w.scope === 'secondary') && (w.usedPercent ?? 0) >= 100)
    .map((w) => w.resetAfterSeconds)
    .filter((s): s is number => s != null);
  return resets.length > 0 ? Math.max(...resets) : null;
}

function toOutcome(
  cls: Classification,
  answer: AttemptAnswer,
  attempts: number,
  fetchedAtMs: number,
  captureRaw: boolean,
): ProbeOutcome {
  let snapshot = cls.snapshot;
  let resetAfterSeconds = cls.resetAfterSeconds;
  if (!snapshot && cls.state === 'exhausted') {
    // A 429 usage_limit_reached names the plan but carries no windows (the responses probe may
    // still have x-codex-* headers); keep what it tells.
    const plan = planFromErrorBody(answer.http.body);
    const fromHeaders = answer.snapshot ?? null;
    snapshot = {
      plan: plan ?? fromHeaders?.plan ?? null,
      allowed: false,
      limitReached: true,
      rateLimitReachedType: cls.errorCode,
      windows: fromHeaders?.windows ?? [],
      credits: fromHeaders?.credits ?? { hasCredits: null, unlimited: null, balance: null },
      fetchedAt: new Date(fetchedAtMs).toISOString(),
    };
    resetAfterSeconds ??= latestFullWindowReset(snapshot);
  }
  const outcome: ProbeOutcome = {
    state: cls.state,
    reason: cls.reason,
    httpStatus: answer.http.status,
    errorCode: cls.errorCode,
    message: cls.message,
    snapshot,
    resetAfterSeconds,
    retryAfterSeconds: cls.retryAfterSeconds,
    transient: cls.transient,
    source: 'network',
    fetchedAt: new Date(fetchedAtMs).toISOString(),
    attempts,
    usagePath: answer.usagePath,
  };
  if (captureRaw) {
    outcome.raw = { status: answer.http.status, headers: headersToRecord(answer.http.headers), body: answer.http.body };
  }
  return outcome;
}

function failedOutcome(reason: 'no_credentials' | 'network_error', message: string, now: number): ProbeOutcome {
  return {
    state: reason === 'no_credentials' ? 'auth_invalid' : 'unknown',
    reason,
    httpStatus: null,
    errorCode: null,
    message,
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: reason !== 'no_credentials',
    source: 'network',
    fetchedAt: new Date(now).toISOString(),
    attempts: 0,
    usagePath: null,
  };
}

async function refresh(handler: UnauthorizedHandler): Promise<string | null | RefreshFailure> {
  try {
    return await handler();
  } catch (error) {
    return { errorCode: null, httpStatus: null, message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The probe loop shared by the usage and responses probes: attempt, classify, refresh once on an
 * expired token (that retry does not count against `retries`), back off on transient failures.
 */
export async function runProbe(target: ProbeTarget, options: ProbeOptions, attempt: Attempt): Promise<ProbeOutcome> {
  const r = resolveProbeOptions(options);
  try {
    if (!target.accessToken) return failedOutcome('no_credentials', 'no access token for this account', r.clock());
    let token = target.accessToken;
    let refreshTried = false;
    /** True once the token in use came from a refresh: a 401 now means auth_invalid. */
    let refreshed = false;
    let retriesUsed = 0;
    let attempts = 0;
    for (;;) {
      attempts++;
      const answer = await attempt(token);
      const now = r.clock();
      const cls = classifyUpstreamAnswer({
        ...answer.http,
        snapshot: answer.snapshot ?? null,
        tokenExpired: tokenExpired(target, token, now),
        afterRefresh: refreshed,
        now,
      });
      if (cls.state === 'auth_expired' && !refreshTried && options.onUnauthorized) {
        refreshTried = true;
        const next = await refresh(options.onUnauthorized);
        if (typeof next === 'string' && next !== '') {
          token = next;
          refreshed = true;
          continue;
        }
        if (next && typeof next === 'object') {
          // The refresh itself failed: that is the answer (retrying usage with the old token cannot help).
          const failed = classifyUpstreamAnswer({ status: answer.http.status, refreshFailure: next, now });
          return toOutcome(failed, answer, attempts, now, options.captureRaw === true);
        }
      }
      if (isRetryableReason(cls.reason) && retriesUsed < r.retries) {
        const policy = { baseDelayMs: r.retryDelayMs, maxDelayMs: r.maxRetryDelayMs, maxRetryAfterMs: 60_000 };
        const delay = nextRetryDelayMs(retriesUsed, cls.retryAfterSeconds, policy, r.random);
        if (delay != null) {
          retriesUsed++;
          await r.sleep(delay);
          continue;
        }
      }
      return toOutcome(cls, answer, attempts, now, options.captureRaw === true);
    }
  } catch (error) {
    const message = sanitizeMessage(error instanceof Error ? error.message : String(error)) ?? 'probe failed';
    return failedOutcome('network_error', message, r.clock());
  }
}

/** Probes one account's quota over the usage endpoint. */
export function probeAccount(target: ProbeTarget, options: ProbeOptions): Promise<ProbeOutcome> {
  const r = resolveProbeOptions(options);
  return runProbe(target, options, usageAttempt(target, options, r));
}
