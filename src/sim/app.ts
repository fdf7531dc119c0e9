// The simulator's HTTP face: ChatGPT usage + responses routes and the OAuth token endpoint, with
// per-IP in-flight counting (Cloudflare), latency, and retired paths in front of every backend call.

import { setTimeout as sleep } from 'node:timers/promises';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { type AccountState, issueTokens } from './account.ts';
import { type LatencySpec, type Rng, sampleLatency } from './rng.ts';
import { SCENARIOS } from './scenarios.ts';
import type { StatsRecorder } from './stats.ts';
import { subscriptionAnswer } from './subscription.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from './tokens.ts';
import {
  cloudflareChallenge,
  jsonAnswer,
  responsesAnswer,
  retiredPath,
  unauthorized,
  usageAnswer,
  type WireAnswer,
} from './wire.ts';

export interface RetiredPath {
  path: '/wham' | '/codex';
  status: 403 | 404;
}

/** Everything the routes need; owned by startSimulator. */
export interface SimCore {
  /** Sim time in unix seconds (fractional). */
  now(): number;
  rng: Rng;
  stats: StatsRecorder;
  byAccessToken: Map<string, AccountState>;
  byRefreshToken: Map<string, AccountState>;
  /** Refresh tokens rotated away: using one again is `refresh_token_reused`. */
  usedRefreshTokens: Map<string, AccountState>;
  latency: LatencySpec | undefined;
  refreshDelayMs: number;
  cloudflareMaxInFlight: number | undefined;
  /** Share (0..1) of calls without an `originator` header that Cloudflare challenges. */
  cloudflareWithoutOriginatorRate: number;
  retiredPaths: RetiredPath[];
  /** Aborted on close: every sleeping or hanging request ends. */
  closing: AbortSignal;
}

function toResponse(answer: WireAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

function rayId(core: SimCore): string {
  const part = () =>
    Math.floor(core.rng() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return part() + part();
}

function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Waits `ms`, or until the client leaves or the simulator closes; true when it was cut short. */
async function wait(ms: number, signals: AbortSignal[]): Promise<boolean> {
  if (ms <= 0) return signals.some((s) => s.aborted);
  const signal = AbortSignal.any(signals);
  if (signal.aborted) return true;
  try {
    await sleep(ms, undefined, { signal });
    return false;
  } catch {
    return true;
  }
}

const HANG_MS = 2 ** 31 - 1;

/** Rotates an account's tokens, keeping the lookup maps in step. */
export function rotateTokens(core: SimCore, state: AccountState, expired: boolean): void {
  core.byAccessToken.delete(state.account.accessToken);
  const oldRefresh = state.account.refreshToken;
  if (oldRefresh) {
    core.byRefreshToken.delete(oldRefresh);
    core.usedRefreshTokens.set(oldRefresh, state);
  }
  issueTokens(state, core.now(), expired);
  core.byAccessToken.set(state.account.accessToken, state);
  core.byRefreshToken.set(state.account.refreshToken, state);
}

type Handler = (state: AccountState, now: number, ray: string) => WireAnswer | Promise<WireAnswer>;

/** Shared front for every backend call: in-flight count, Cloudflare, retired path, auth, latency. */
async function backendCall(
  core: SimCore,
  c: Context,
  route: string,
  retiredKey: RetiredPath['path'] | null,
  handle: Handler,
) {
  const ip = clientIp(c);
  const inFlight = core.stats.enter(ip);
  const signals = [core.closing, c.req.raw.signal];
  let status: number | 'cancelled' = 'cancelled';
  try {
    const ray = rayId(core);
    let answer: WireAnswer | null = null;
    const state = lookupBearer(core, c.req.header('authorization'));
    const originator = c.req.header('originator');
    core.stats.headersSeen(
      originator,
      c.req.header('chatgpt-account-id'),
      state?.account.id ?? null,
      c.req.header('user-agent'),
    );
    const overLimit = core.cloudflareMaxInFlight != null && inFlight > core.cloudflareMaxInFlight;
    const noOriginator = !originator && core.cloudflareWithoutOriginatorRate > 0;
    if (overLimit || (noOriginator && core.rng() < core.cloudflareWithoutOriginatorRate)) {
      core.stats.stats.cloudflareChallenges += 1;
      answer = cloudflareChallenge(ray);
    }
    const retired = retiredKey && core.retiredPaths.find((p) => p.path === retiredKey);
    if (!answer && retired) answer = retiredPath(retired.status);
    if (!answer && state && SCENARIOS[state.account.scenario].fault === 'cloudflare') {
      core.stats.stats.cloudflareChallenges += 1;
    }
    if (!answer) {
      const latency = state?.spec.latency ?? core.latency;
      if (await wait(sampleLatency(latency, core.rng), signals)) return c.body(null, 503);
      answer = state ? authCheck(core, state) : unauthorized(c.req.header('authorization') ? 'unknown' : 'missing');
      answer ??= await handle(state!, core.now(), ray);
    }
    if (answer.hang) {
      await wait(HANG_MS, signals);
      return c.body(null, 504);
    }
    status = answer.status;
    return toResponse(answer);
  } finally {
    core.stats.leave(ip);
    core.stats.record(route, status);
  }
}

function lookupBearer(core: SimCore, header: string | undefined): AccountState | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? (core.byAccessToken.get(m[1]) ?? null) : null;
}

/** null when the token is good for a normal answer. */
function authCheck(core: SimCore, state: AccountState): WireAnswer | null {
  const def = SCENARIOS[state.account.scenario];
  // Cloudflare stands in front of auth: the challenge comes before any token check.
  if (def.fault === 'cloudflare') return null;
  if (def.tokensRevoked) return unauthorized('revoked');
  if (state.accessExpired || state.account.expiresAt <= core.now()) return unauthorized('expired');
  return null;
}

async function readResponsesBody(c: Context): Promise<{ model: string; stream: boolean } | WireAnswer> {
  const bad = (message: string, param: string | null) =>
    jsonAnswer(400, { error: { message, type: 'invalid_request_error', param, code: null } });
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return bad('We could not parse the JSON body of your request.', null);
  }
  if (!body || typeof body !== 'object') return bad('The request body must be a JSON object.', null);
  const { model, stream } = body as { model?: unknown; stream?: unknown };
  if (typeof model !== 'string' || model === '') return bad("Missing required parameter: 'model'.", 'model');
  return { model, stream: stream === true };
}

function oauthError(status: number, code: string, message: string): WireAnswer {
  if (code === 'invalid_grant') return jsonAnswer(status, { error: 'invalid_grant', error_description: message });
  return jsonAnswer(status, { error: { message, type: 'invalid_request_error', param: null, code } });
}

const REFRESH_MESSAGES: Record<string, string> = {
  refresh_token_invalidated: 'Your session has ended. Please sign in again.',
  refresh_token_expired: 'Your refresh token has expired. Please sign in again.',
  refresh_token_reused:
    'Your refresh token has already been used to generate a new access token. Please try signing in again.',
  invalid_grant: 'Invalid refresh token.',
};

async function readTokenRequest(c: Context): Promise<Record<string, string> | null> {
  const text = await c.req.text();
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('x-www-form-urlencoded')) {
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
      }
      return null;
    } catch {
      if (type.includes('json')) return null;
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

async function tokenEndpoint(core: SimCore, c: Context): Promise<Response> {
  let status: number | 'cancelled' = 'cancelled';
  try {
    const answer = await refreshAnswer(core, c);
    status = answer.status;
    return toResponse(answer);
  } finally {
    core.stats.record('/oauth/token', status);
  }
}

async function refreshAnswer(core: SimCore, c: Context): Promise<WireAnswer> {
  const form = await readTokenRequest(c);
  if (!form) {
    return jsonAnswer(400, { error: 'invalid_request', error_description: 'Body must be JSON or form-encoded.' });
  }
  if (form.grant_type !== 'refresh_token') {
    return jsonAnswer(400, {
      error: 'unsupported_grant_type',
      error_description: `grant_type must be refresh_token, got ${JSON.stringify(form.grant_type ?? null)}.`,
    });
  }
  const token = form.refresh_token;
  if (!token) return jsonAnswer(400, { error: 'invalid_request', error_description: 'refresh_token is missing.' });
  const fail = (code: string) => {
    core.stats.stats.refreshFailures += 1;
    return oauthError(401, code, REFRESH_MESSAGES[code] ?? 'Invalid refresh token.');
  };
  if (core.usedRefreshTokens.has(token)) {
    core.stats.stats.reusedRefreshTokens += 1;
    return fail('refresh_token_reused');
  }
  const state = core.byRefreshToken.get(token);
  if (!state) return fail('invalid_grant');
  const dead = SCENARIOS[state.account.scenario].refreshFailure;
  if (dead) return fail(dead);
  // Rotate before the (optional) delay: like the real server, the old token is spent even if the
  // client dies before reading the answer.
  rotateTokens(core, state, false);
  core.stats.stats.refreshes += 1;
  const a = state.account;
  const answer = jsonAnswer(200, {
    id_token: a.idToken,
    access_token: a.accessToken,
    refresh_token: a.refreshToken,
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    token_type: 'Bearer',
    scope: 'openid profile email offline_access',
  });
  if (core.refreshDelayMs > 0 && (await wait(core.refreshDelayMs, [core.closing, c.req.raw.signal]))) {
    return { status: 503, headers: {}, body: null };
  }
  return answer;
}

export function buildApp(core: SimCore): Hono {
  const app = new Hono();
  const usage = (route: string, retired: RetiredPath['path'] | null) =>
    app.get(route, (c) => backendCall(core, c, route, retired, (s, now, ray) => usageAnswer(s, now, ray)));
  usage('/backend-api/wham/usage', '/wham');
  usage('/backend-api/codex/usage', '/codex');
  usage('/api/codex/usage', null);
  app.post('/backend-api/codex/responses', async (c) => {
    // Read the body first: a bad body is a 400 whatever the account's scenario.
    const parsed = await readResponsesBody(c);
    return backendCall(core, c, '/backend-api/codex/responses', null, (s, now, ray) =>
      'status' in parsed ? parsed : responsesAnswer(s, now, parsed.model, parsed.stream, ray),
    );
  });
  app.get('/backend-api/subscriptions', (c) =>
    backendCall(core, c, '/backend-api/subscriptions', null, (s, now) =>
      subscriptionAnswer(s, now, c.req.query('account_id') ?? null),
    ),
  );
  app.post('/oauth/token', (c) => tokenEndpoint(core, c));
  app.get('/', (c) => c.json({ simulator: 'codex-fleet', accounts: core.byAccessToken.size }));
  // Like the real backend: unknown routes and our own bugs answer JSON, never a stack trace.
  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  app.onError((error, c) => {
    process.emitWarning(`simulator route failed: ${error.message}`);
    return c.json({ detail: 'Internal Server Error' }, 500);
  });
  return app;
}
