// What the simulated ChatGPT backend puts on the wire for an account at a moment: pure functions of
// account state and time, so every scenario's answer is testable without a socket.
import { type AccountState, type SimWindow, usedPercentAt } from './account.ts';
import { type Fault, SCENARIOS } from './scenarios.ts';

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  /** null: no body at all. */
  body: string | null;
  /** Never answer: hold the request until the client leaves or the simulator closes. */
  hang?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };

export function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): WireAnswer {
  return { status, headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export const CLOUDFLARE_HTML =
  '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>' +
  '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">' +
  '</head><body><div class="main-wrapper" role="main"><div class="main-content">' +
  '<h1 class="zone-name-title h1">chatgpt.com</h1><h2 class="h2" id="challenge-running">' +
  'Checking if the site connection is secure</h2><noscript><div class="h2">Enable JavaScript and cookies to continue' +
  '</div></noscript></div></div></body></html>';

/** The Cloudflare managed challenge: says nothing about the account. */
export function cloudflareChallenge(rayId: string): WireAnswer {
  return {
    status: 403,
    headers: {
      'content-type': 'text/html; charset=UTF-8',
      'cf-mitigated': 'challenge',
      'cf-ray': `${rayId}-SJC`,
      server: 'cloudflare',
      'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate',
    },
    body: CLOUDFLARE_HTML,
  };
}

export function unauthorized(kind: 'missing' | 'unknown' | 'expired' | 'revoked'): WireAnswer {
  switch (kind) {
    case 'missing':
      return jsonAnswer(401, { detail: 'Unauthorized' });
    case 'unknown':
      return jsonAnswer(401, {
        error: {
          message: 'Could not parse your authentication token. Please try signing in again.',
          type: 'invalid_request_error',
          code: 'invalid_token',
          param: null,
        },
        status: 401,
      });
    case 'expired':
      return jsonAnswer(401, {
        error: {
          message: 'Provided authentication token is expired. Please try signing in again.',
          type: null,
          code: 'token_expired',
          param: null,
        },
        status: 401,
      });
    case 'revoked':
      return jsonAnswer(401, {
        error: {
          message: 'Your authentication token has been invalidated. Please try signing in again.',
          type: 'invalid_request_error',
          code: 'token_invalidated',
          param: null,
        },
        status: 401,
      });
  }
}

/** A path the upstream has retired: 404 or a blanket 403 for every token. */
export function retiredPath(status: 403 | 404): WireAnswer {
  return status === 404 ? jsonAnswer(404, { detail: 'Not Found' }) : jsonAnswer(403, { detail: 'Forbidden' });
}

const r = (n: number) => Math.max(0, Math.ceil(n));

interface WindowView {
  usedPercent: number;
  windowSeconds: number;
  resetAfterSeconds: number;
  resetAt: number;
}

function viewWindow(w: SimWindow, now: number): WindowView {
  const used = usedPercentAt(w, now);
  // Integers on the wire: the real Codex CLI rejects floats. Floor so 99.6 does not read as exhausted.
  const usedPercent = used >= 100 ? 100 : Math.floor(used);
  return { usedPercent, windowSeconds: w.windowSeconds, resetAfterSeconds: r(w.resetAt - now), resetAt: r(w.resetAt) };
}

function windowJson(v: WindowView | null, legacy: boolean) {
  if (v == null) return null;
  return legacy
    ? {
        used_percent: v.usedPercent,
        limit_window_seconds: v.windowSeconds,
        resets_in_seconds: v.resetAfterSeconds,
        resets_at: v.resetAt,
      }
    : {
        used_percent: v.usedPercent,
        limit_window_seconds: v.windowSeconds,
        reset_after_seconds: v.resetAfterSeconds,
        reset_at: v.resetAt,
      };
}

function rateLimitJson(p: WindowView | null, s: WindowView | null, legacy: boolean, flags: boolean) {
  const reached = [p, s].some((w) => w != null && w.usedPercent >= 100);
  return {
    ...(flags ? { allowed: !reached, limit_reached: reached } : {}),
    primary_window: windowJson(p, legacy),
    secondary_window: windowJson(s, legacy),
  };
}

function creditsOf(state: AccountState) {
  const c = state.spec.credits ?? SCENARIOS[state.account.scenario].credits;
  return c ?? { hasCredits: false, unlimited: false, balance: '0' };
}

/** The window that blocks the account right now (the one resetting last), or null. */
function blockingWindow(views: Array<WindowView | null>): WindowView | null {
  let found: WindowView | null = null;
  for (const v of views) if (v && v.usedPercent >= 100 && (!found || v.resetAt > found.resetAt)) found = v;
  return found;
}

interface Views {
  primary: WindowView | null;
  secondary: WindowView | null;
  blocking: WindowView | null;
}

function views(state: AccountState, now: number): Views {
  const primary = state.primary ? viewWindow(state.primary, now) : null;
  const secondary = state.secondary ? viewWindow(state.secondary, now) : null;
  return { primary, secondary, blocking: blockingWindow([primary, secondary]) };
}

/** codex-rs SpendControlLimitDetails for a budget of 100.00 (money as strings, percents as integers). */
function budgetJson(w: WindowView) {
  const used = Math.min(100, w.usedPercent);
  return {
    limit: '100.00',
    used: used.toFixed(2),
    remaining: (100 - used).toFixed(2),
    used_percent: used,
    remaining_percent: 100 - used,
    reset_after_seconds: w.resetAfterSeconds,
    reset_at: w.resetAt,
  };
}

/** Whether the member's spend budget is used up (spend_control.reached). */
function spendReached(state: AccountState, now: number): boolean {
  const sc = SCENARIOS[state.account.scenario].spendControl;
  if (!sc) return false;
  if (!state.spend) return sc.usedPercent >= 100;
  return viewWindow(state.spend, now).usedPercent >= 100;
}

/** What stops the account outside its windows: a reached spend control or a blocking reached type. */
function workspaceBlock(
  state: AccountState,
  now: number,
): { resetAfterSeconds: number; resetAt: number } | 'no-reset' | null {
  const def = SCENARIOS[state.account.scenario];
  if (spendReached(state, now)) {
    if (!state.spend) return 'no-reset';
    const v = viewWindow(state.spend, now);
    return { resetAfterSeconds: v.resetAfterSeconds, resetAt: v.resetAt };
  }
  return def.reachedTypeBlocks ? 'no-reset' : null;
}

/** The 200 usage body. */
export function usagePayload(state: AccountState, now: number): Record<string, unknown> {
  const def = SCENARIOS[state.account.scenario];
  const legacy = def.legacyFields === true;
  const v = views(state, now);
  const flags = def.exhaustion !== 'no-flag';
  const credits = creditsOf(state);
  let rateLimit: Record<string, unknown> | null = rateLimitJson(v.primary, v.secondary, legacy, flags);
  // Workspaces on credits or spend controls: `rate_limit: null` unless the reached type blocks them.
  if (def.layout === 'none') {
    rateLimit = def.reachedTypeBlocks
      ? { allowed: false, limit_reached: true, primary_window: null, secondary_window: null }
      : null;
  }
  const body: Record<string, unknown> = {
    plan_type: state.account.plan,
    rate_limit: rateLimit,
    credits: { has_credits: credits.hasCredits, unlimited: credits.unlimited, balance: credits.balance },
  };
  if (v.blocking && flags) body.rate_limit_reached_type = { type: 'rate_limit_reached' };
  if (def.reachedType) body.rate_limit_reached_type = { type: def.reachedType };
  if (def.spendControl) {
    const reached = spendReached(state, now);
    body.spend_control = {
      reached,
      ...(reached ? { reached_limit_type: 'individual' } : {}),
      ...(state.spend ? { individual_limit: budgetJson(viewWindow(state.spend, now)) } : {}),
    };
  }
  if (state.codeReview) {
    body.code_review_rate_limit = rateLimitJson(viewWindow(state.codeReview, now), null, legacy, true);
  }
  if (state.additional) {
    body.additional_rate_limits = [
      {
        limit_name: 'codex_other',
        metered_feature: 'codex_bengalfox',
        rate_limit: rateLimitJson(viewWindow(state.additional, now), null, legacy, true),
      },
    ];
  }
  return body;
}

function usageLimitReached(
  state: AccountState,
  blocking: Pick<WindowView, 'resetAt' | 'resetAfterSeconds'> | null,
  withReset: boolean,
): WireAnswer {
  const error: Record<string, unknown> = {
    type: 'usage_limit_reached',
    message: 'The usage limit has been reached',
    plan_type: state.account.plan,
  };
  if (withReset && blocking) {
    error.resets_at = blocking.resetAt;
    error.resets_in_seconds = blocking.resetAfterSeconds;
  }
  return jsonAnswer(429, { error });
}

export function faultAnswer(fault: Fault, state: AccountState, now: number, rayId: string): WireAnswer {
  switch (fault) {
    case 'usage-not-included':
      return jsonAnswer(429, {
        error: {
          type: 'usage_not_included',
          message: 'To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus.',
          plan_type: state.account.plan,
        },
      });
    case 'deactivated-workspace':
      return jsonAnswer(402, { detail: { code: 'deactivated_workspace' } });
    case 'account-banned':
      return jsonAnswer(401, {
        error: {
          message:
            'Your OpenAI account has been deactivated, please check your email for more information. If you feel this is an error, contact us through our help center at help.openai.com.',
          type: 'invalid_request_error',
          code: 'account_deactivated',
          param: null,
        },
        status: 401,
      });
    case 'account-deactivated':
      return jsonAnswer(403, {
        error: {
          message: 'This account has been deactivated.',
          type: 'invalid_request_error',
          code: 'account_deactivated',
          param: null,
        },
      });
    case 'unsupported-country':
      return jsonAnswer(403, {
        error: {
          message: 'Country, region, or territory not supported',
          type: 'request_forbidden',
          code: 'unsupported_country',
          param: null,
        },
      });
    case 'cloudflare':
      return cloudflareChallenge(rayId);
    case 'throttled':
      return { status: 429, headers: { 'retry-after': String(state.spec.retryAfterSeconds ?? 2) }, body: null };
    case 'server-error':
      return jsonAnswer(500, {
        error: { message: 'An error occurred while processing your request.', type: 'server_error', code: null },
      });
    case 'bad-gateway':
      return {
        status: 502,
        headers: { 'content-type': 'text/html', server: 'cloudflare' },
        body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>',
      };
    case 'overloaded':
      return overloaded();
    case 'gateway-timeout':
      return jsonAnswer(504, { error: { message: 'Gateway timeout.', type: 'server_error', code: 'gateway_timeout' } });
    case 'timeout':
      return { status: 504, headers: {}, body: null, hang: true };
    case 'malformed-non-json':
      return {
        status: 200,
        headers: JSON_TYPE,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
      };
    case 'malformed-truncated': {
      const full = JSON.stringify(usagePayload(state, now));
      return { status: 200, headers: JSON_TYPE, body: full.slice(0, Math.floor(full.length / 2)) };
    }
  }
}

function overloaded(): WireAnswer {
  return jsonAnswer(503, {
    error: {
      message: 'Our servers are currently overloaded. Please try again later.',
      type: 'server_error',
      code: 'server_is_overloaded',
    },
  });
}

/**
 * The scenario's fixed or time-dependent failure, or null when the account answers normally.
 * Consumes one flaky failure per call.
 */
export function scenarioFailure(state: AccountState, now: number, rayId: string): WireAnswer | null {
  const def = SCENARIOS[state.account.scenario];
  if (def.fault) return faultAnswer(def.fault, state, now, rayId);
  if (def.flaky && state.failuresLeft > 0) {
    state.failuresLeft -= 1;
    return overloaded();
  }
  return null;
}

/** GET …/usage once the token is accepted. */
export function usageAnswer(state: AccountState, now: number, rayId: string): WireAnswer {
  const failure = scenarioFailure(state, now, rayId);
  if (failure) return failure;
  const def = SCENARIOS[state.account.scenario];
  const v = views(state, now);
  if (v.blocking && (def.exhaustion === '429' || def.exhaustion === '429-no-reset')) {
    return usageLimitReached(state, v.blocking, def.exhaustion === '429');
  }
  return jsonAnswer(200, usagePayload(state, now));
}

/** The x-codex-* headers every responses answer carries. */
export function codexHeaders(state: AccountState, now: number): Record<string, string> {
  const v = views(state, now);
  const credits = creditsOf(state);
  const h: Record<string, string> = {
    'x-codex-plan-type': state.account.plan,
    'x-codex-active-limit': 'codex',
    'x-codex-credits-has-credits': String(credits.hasCredits),
    'x-codex-credits-unlimited': String(credits.unlimited),
  };
  // Absent rather than empty: the CLI reads a missing balance as unknown (UPSTREAM.md §1).
  if (credits.balance != null) h['x-codex-credits-balance'] = credits.balance;
  for (const [slot, w] of [
    ['primary', v.primary],
    ['secondary', v.secondary],
  ] as const) {
    if (!w) continue;
    h[`x-codex-${slot}-used-percent`] = String(w.usedPercent);
    h[`x-codex-${slot}-window-minutes`] = String(Math.ceil(w.windowSeconds / 60));
    h[`x-codex-${slot}-reset-at`] = String(w.resetAt);
    h[`x-codex-${slot}-reset-after-seconds`] = String(w.resetAfterSeconds);
  }
  return h;
}

function sse(events: Array<Record<string, unknown>>): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

/** POST …/codex/responses once the token is accepted and the body has a model. */
export function responsesAnswer(state: AccountState, now: number, model: string, stream: boolean, rayId: string) {
  const failure = scenarioFailure(state, now, rayId);
  if (failure) return failure;
  const def = SCENARIOS[state.account.scenario];
  const v = views(state, now);
  const headers = codexHeaders(state, now);
  // Upstream refuses generation when exhausted, whatever the usage endpoint's style.
  if (v.blocking) {
    const refusal = usageLimitReached(state, v.blocking, def.exhaustion !== '429-no-reset');
    return { ...refusal, headers: { ...refusal.headers, ...headers } };
  }
  // A used-up spend budget or workspace credit limit refuses generation too.
  const block = workspaceBlock(state, now);
  if (block) {
    const refusal = usageLimitReached(state, block === 'no-reset' ? null : block, block !== 'no-reset');
    return { ...refusal, headers: { ...refusal.headers, ...headers } };
  }
  const id = `resp_${rayId}`;
  const created = Math.floor(now);
  const output = [
    {
      type: 'message',
      id: `msg_${rayId}`,
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'ok', annotations: [] }],
    },
  ];
  const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1, total_tokens: 13 };
  const response = { id, object: 'response', created_at: created, model, status: 'completed', output, usage };
  if (!stream) return jsonAnswer(200, response, headers);
  const body = sse([
    { type: 'response.created', response: { ...response, status: 'in_progress', output: [], usage: null } },
    { type: 'response.output_text.delta', item_id: `msg_${rayId}`, output_index: 0, content_index: 0, delta: 'ok' },
    { type: 'response.completed', response },
  ]);
  return { status: 200, headers: { ...headers, 'content-type': 'text/event-stream' }, body } satisfies WireAnswer;
}
