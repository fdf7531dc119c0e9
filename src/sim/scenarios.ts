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
  // Issue 19: the UPSTREAM.md §2 rows for workspaces, spend controls, banned accounts, plans in the wild.
  'business-spend-control',
  'enterprise-unlimited',
  'edu-no-windows',
  'spend-control-reached',
  'spend-control-reached-no-reset',
  'workspace-credits-depleted',
  'workspace-limit-evidence',
  'account-banned',
  'go-monthly',
  'prolite-weekly',
  'self-serve-business-prolite',
  'unknown-plan',
  'inexact-windows',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function isScenarioName(value: unknown): value is ScenarioName {
  return typeof value === 'string' && (SCENARIO_NAMES as readonly string[]).includes(value);
}

export const FIVE_HOURS = 18_000;
export const WEEK = 604_800;
export const MONTH = 2_592_000;
/** Window lengths as some real payloads carry them (UPSTREAM.md §2): a minute short. */
export const FIVE_HOURS_SEEN = 17_940;
export const WEEK_SEEN = 604_740;

/**
 * Which windows the account has: standard = 5h primary + weekly secondary; monthly-only = the go
 * plan's one 30-day window; inexact = 17940 s + 604740 s; none = `rate_limit: null` (workspaces on
 * credits or spend controls).
 */
export type WindowLayout = 'standard' | 'weekly-only' | 'monthly' | 'monthly-only' | 'inexact' | 'none';

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
  | 'account-banned'
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
  credits?: { hasCredits: boolean; unlimited: boolean; balance: string | null };
  /**
   * spend_control: the member's budget, reached at 100%. details=false: only `{reached: true}` is sent
   * (reset unknown).
   */
  spendControl?: { usedPercent: number; details: boolean };
  /** rate_limit_reached_type.type the account reports (codex-rs RateLimitReachedKind). */
  reachedType?: string;
  /** The reached type blocks the account: rate_limit says allowed=false, limit_reached=true. */
  reachedTypeBlocks?: boolean;
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
    description: '401 token_invalidated on an unexpired token, even after a refresh (Reauth)',
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
  'business-spend-control': {
    ...base,
    plan: 'business',
    layout: 'none',
    credits: { hasCredits: true, unlimited: false, balance: '0' },
    spendControl: { usedPercent: 12, details: true },
    description: 'business workspace: rate_limit null, spend control at 12% of the budget (usable)',
  },
  'enterprise-unlimited': {
    ...base,
    plan: 'enterprise',
    layout: 'none',
    credits: { hasCredits: true, unlimited: true, balance: null },
    description: 'enterprise workspace: rate_limit null, unlimited credits (usable)',
  },
  'edu-no-windows': {
    ...base,
    plan: 'edu',
    layout: 'none',
    description: 'edu workspace: rate_limit null and nothing else (usable: no window limits apply)',
  },
  'spend-control-reached': {
    ...base,
    plan: 'business',
    layout: 'none',
    spendControl: { usedPercent: 100, details: true },
    description: 'business workspace: spend_control reached, the budget resets in 20 days',
  },
  'spend-control-reached-no-reset': {
    ...base,
    plan: 'business',
    layout: 'none',
    spendControl: { usedPercent: 100, details: false },
    description: 'business workspace: spend_control {reached: true} without details (reset unknown)',
  },
  'workspace-credits-depleted': {
    ...base,
    plan: 'business',
    layout: 'none',
    reachedType: 'workspace_member_credits_depleted',
    reachedTypeBlocks: true,
    description: 'business: allowed=false, rate_limit_reached_type workspace_member_credits_depleted',
  },
  'workspace-limit-evidence': {
    ...base,
    plan: 'business',
    reachedType: 'workspace_owner_usage_limit_reached',
    description: 'business with windows and allowed=true; rate_limit_reached_type kept as evidence only',
  },
  'account-banned': {
    ...base,
    fault: 'account-banned',
    description: '401 account_deactivated: the OpenAI account is banned (Disable, never Reauth)',
  },
  'go-monthly': {
    ...base,
    plan: 'go',
    layout: 'monthly-only',
    primaryUsedPercent: 20,
    description: 'go plan: one 30-day window in primary_window',
  },
  'prolite-weekly': {
    ...base,
    plan: 'prolite',
    layout: 'weekly-only',
    primaryUsedPercent: 25,
    description: 'prolite plan: weekly window in primary_window, no 5h window',
  },
  'self-serve-business-prolite': {
    ...base,
    plan: 'self_serve_business_prolite',
    description: 'self_serve_business_prolite plan with 5h + weekly windows',
  },
  'unknown-plan': {
    ...base,
    plan: 'galaxy_brain',
    description: 'a plan never seen before with valid windows (still ok)',
  },
  'inexact-windows': {
    ...base,
    layout: 'inexact',
    description: 'window lengths as seen in the wild: 17940 s (5h) and 604740 s (weekly)',
  },
};
