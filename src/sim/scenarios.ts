// Every upstream behaviour the simulator can play: one scenario per row of UPSTREAM.md §2 and issue 3.
// A scenario is data (plan, window layout, starting usage, how exhaustion is reported, a fixed fault);
// wire.ts turns it into status, headers and body.

export const SCENARIO_NAMES = [
  'healthy',
  'weekly-only-free',
  'team-monthly',
  'pro',
  'exhausted',
  'five-hour-full',
  'usage-limit-429',
  'usage-limit-429-no-reset',
  'usage-not-included',
  'deactivated-workspace',
  'expired-token',
  'auth-revoked',
  'refresh-invalidated',
  'refresh-expired',
  'refresh-reused',
  'refresh-invalid-grant',
  'account-deactivated',
  'unsupported-country',
  'cloudflare',
  'throttled',
  'server-error',
  'bad-gateway',
  'overloaded',
  'gateway-timeout',
  'timeout',
  'flaky',
  'malformed-non-json',
  'malformed-truncated',
  'legacy-fields',
  'code-review-additional',
  'credits',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function isScenarioName(value: unknown): value is ScenarioName {
  return typeof value === 'string' && (SCENARIO_NAMES as readonly string[]).includes(value);
}

export const FIVE_HOURS = 18_000;
export const WEEK = 604_800;
export const MONTH = 2_592_000;

/** Which windows the account has: standard = 5h primary + weekly secondary. */
export type WindowLayout = 'standard' | 'weekly-only' | 'monthly';

/** How a window at 100% is reported. */
export type ExhaustionStyle =
  | 'flag' // 200 with allowed=false, limit_reached=true
  | 'no-flag' // 200, window at 100% but no allowed/limit_reached fields
  | '429' // 429 usage_limit_reached with resets_in_seconds / resets_at
  | '429-no-reset'; // 429 usage_limit_reached without a reset (free plans)

/** A fixed failure that hides the account's quota on both usage and responses. */
export type Fault =
  | 'usage-not-included'
  | 'deactivated-workspace'
  | 'account-deactivated'
  | 'unsupported-country'
  | 'cloudflare'
  | 'throttled'
  | 'server-error'
  | 'bad-gateway'
  | 'overloaded'
  | 'gateway-timeout'
  | 'timeout'
  | 'malformed-non-json'
  | 'malformed-truncated';

/** Codes the token endpoint answers with when an account's refresh token is dead. */
export type RefreshFailure =
  | 'refresh_token_invalidated'
  | 'refresh_token_expired'
  | 'refresh_token_reused'
  | 'invalid_grant';

export interface ScenarioDef {
  description: string;
  plan: string;
  layout: WindowLayout;
  primaryUsedPercent: number;
  secondaryUsedPercent: number;
  exhaustion: ExhaustionStyle;
  /** The access token starts expired (JWT exp in the past): 401 until refreshed. */
  tokenExpired?: boolean;
  /** Every access token is rejected, even a freshly refreshed one. */
  tokensRevoked?: boolean;
  refreshFailure?: RefreshFailure;
  fault?: Fault;
  /** Fails this many times (503 overloaded) before answering normally; spec.failures overrides. */
  flaky?: boolean;
  legacyFields?: boolean;
  codeReview?: boolean;
  additionalLimits?: boolean;
  credits?: { hasCredits: boolean; unlimited: boolean; balance: string };
}

const base = {
  plan: 'plus',
  layout: 'standard',
  primaryUsedPercent: 12,
  secondaryUsedPercent: 40,
  exhaustion: 'flag',
} as const;

export const SCENARIOS: Record<ScenarioName, ScenarioDef> = {
  healthy: { ...base, description: 'plus plan, 5h + weekly windows, quota available' },
  'weekly-only-free': {
    ...base,
    plan: 'free',
    layout: 'weekly-only',
    primaryUsedPercent: 35,
    description: 'free plan: weekly window in primary_window, no 5h window',
  },
  'team-monthly': {
    ...base,
    plan: 'team',
    layout: 'monthly',
    secondaryUsedPercent: 55,
    description: 'team plan: 5h primary + 30-day monthly secondary',
  },
  pro: { ...base, plan: 'pro', primaryUsedPercent: 3, secondaryUsedPercent: 18, description: 'pro plan, low usage' },
  exhausted: {
    ...base,
    secondaryUsedPercent: 100,
    description: 'weekly window at 100%: 200 with limit_reached=true, allowed=false',
  },
  'five-hour-full': {
    ...base,
    primaryUsedPercent: 100,
    exhaustion: 'no-flag',
    description: '5h window at 100% without the limit_reached flag',
  },
  'usage-limit-429': {
    ...base,
    primaryUsedPercent: 100,
    exhaustion: '429',
    description: '429 usage_limit_reached with resets_in_seconds and resets_at',
  },
  'usage-limit-429-no-reset': {
    ...base,
    plan: 'free',
    layout: 'weekly-only',
    primaryUsedPercent: 100,
    exhaustion: '429-no-reset',
    description: 'free plan: 429 usage_limit_reached without a reset time',
  },
  'usage-not-included': {
    ...base,
    plan: 'k12',
    fault: 'usage-not-included',
    description: '429 usage_not_included: the plan has no Codex',
  },
  'deactivated-workspace': {
    ...base,
    plan: 'team',
    fault: 'deactivated-workspace',
    description: '402 {"detail":{"code":"deactivated_workspace"}}',
  },
  'expired-token': {
    ...base,
    tokenExpired: true,
    description: 'access token expired: 401 until refreshed, refresh works',
  },
  'auth-revoked': {
    ...base,
    tokensRevoked: true,
    description: '401 on usage even after a successful refresh',
  },
  'refresh-invalidated': {
    ...base,
    tokenExpired: true,
    refreshFailure: 'refresh_token_invalidated',
    description: 'access token expired, refresh answers 401 refresh_token_invalidated',
  },
  'refresh-expired': {
    ...base,
    tokenExpired: true,
    refreshFailure: 'refresh_token_expired',
    description: 'access token expired, refresh answers 401 refresh_token_expired',
  },
  'refresh-reused': {
    ...base,
    tokenExpired: true,
    refreshFailure: 'refresh_token_reused',
    description: 'access token expired, the stored refresh token was already used elsewhere',
  },
  'refresh-invalid-grant': {
    ...base,
    tokenExpired: true,
    refreshFailure: 'invalid_grant',
    description: 'access token expired, refresh answers the older {"error":"invalid_grant"}',
  },
  'account-deactivated': {
    ...base,
    fault: 'account-deactivated',
    description: 'JSON 403 account_deactivated',
  },
  'unsupported-country': {
    ...base,
    fault: 'unsupported-country',
    description: 'JSON 403 unsupported_country',
  },
  cloudflare: {
    ...base,
    fault: 'cloudflare',
    description: 'Cloudflare HTML 403 challenge (cf-mitigated: challenge, "Just a moment...")',
  },
  throttled: { ...base, fault: 'throttled', description: '429 with Retry-After and no body' },
  'server-error': { ...base, fault: 'server-error', description: '500 server_error' },
  'bad-gateway': { ...base, fault: 'bad-gateway', description: '502 Bad Gateway (HTML from the edge)' },
  overloaded: { ...base, fault: 'overloaded', description: '503 server_is_overloaded' },
  'gateway-timeout': { ...base, fault: 'gateway-timeout', description: '504 Gateway Timeout' },
  timeout: { ...base, fault: 'timeout', description: 'never answers (until the client gives up or the sim closes)' },
  flaky: { ...base, flaky: true, description: 'fails N times with 503 overloaded, then answers normally' },
  'malformed-non-json': { ...base, fault: 'malformed-non-json', description: '200 with a non-JSON body' },
  'malformed-truncated': { ...base, fault: 'malformed-truncated', description: '200 with truncated JSON' },
  'legacy-fields': {
    ...base,
    legacyFields: true,
    description: 'older payload: resets_in_seconds / resets_at instead of reset_after_seconds / reset_at',
  },
  'code-review-additional': {
    ...base,
    codeReview: true,
    additionalLimits: true,
    description: 'plus with code_review_rate_limit and additional_rate_limits',
  },
  credits: {
    ...base,
    credits: { hasCredits: true, unlimited: false, balance: '42.50' },
    description: 'plus with purchased credits',
  },
};
