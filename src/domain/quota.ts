// One source of truth for quota facts: window kinds, account states and the normalized snapshot.
// The CLI, API, metrics and web page all read these.

export const WINDOW_KINDS = ['5h', 'weekly', 'monthly', 'other'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

/**
 * Where in the upstream payload a window came from; kind is decided by duration, never by slot.
 * spend_control: a workspace spend budget (`spend_control.*_limit`), a percentage with a reset but no
 * window length; like code_review and additional it never counts as a main rate-limit window.
 */
export const WINDOW_SCOPES = ['primary', 'secondary', 'code_review', 'additional', 'spend_control'] as const;
export type WindowScope = (typeof WINDOW_SCOPES)[number];

export const ACCOUNT_STATES = [
  'ok',
  'exhausted',
  'auth_expired',
  'auth_invalid',
  'workspace_deactivated',
  'blocked',
  'no_codex',
  'unknown',
] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** Why a probe ended in its state, in operator words. Stable identifiers: used as metric labels. */
export const PROBE_REASONS = [
  'quota_available',
  /** 200 with `rate_limit: null`: no Codex rate-limit windows apply (credits, spend controls). */
  'no_rate_limit_windows',
  'limit_reached',
  /** 200 with `spend_control.reached: true`: the member's workspace spend budget is used up. */
  'spend_control_reached',
  'window_exhausted',
  'usage_limit_reached',
  'usage_not_included',
  'access_token_expired',
  'auth_invalid',
  'refresh_token_dead',
  'deactivated_workspace',
  'account_blocked',
  'cloudflare_challenge',
  'throttled',
  'server_error',
  'server_overloaded',
  'timeout',
  'network_error',
  'path_retired',
  'malformed_response',
  'no_credentials',
  'unexpected_status',
] as const;
export type ProbeReason = (typeof PROBE_REASONS)[number];

/**
 * Plans seen in the wild (UPSTREAM.md §2; codex-rs `codex-backend-openapi-models` PlanType adds guest,
 * free_workspace, education, quorum, k12 and usage-based business variants). Informative only: an
 * unknown plan with valid windows is still ok with its windows.
 */
export const KNOWN_PLANS = [
  'free',
  'go',
  'plus',
  'pro',
  'prolite',
  'team',
  'business',
  'self_serve_business_prolite',
  'enterprise',
  'edu',
] as const;

/**
 * `rate_limit_reached_type.type` values, from codex-rs `RateLimitReachedKind` (rate_limit_status_payload.rs;
 * anything else deserializes there as `unknown`). They say which limit was hit; they only make an account
 * rate-limited together with `allowed: false` or `limit_reached: true`.
 */
export const RATE_LIMIT_REACHED_KINDS = [
  'rate_limit_reached',
  'workspace_owner_credits_depleted',
  'workspace_member_credits_depleted',
  'workspace_owner_usage_limit_reached',
  'workspace_member_usage_limit_reached',
  'unknown',
] as const;

export const SNAPSHOT_SOURCES = ['network', 'cache', 'codex-cli', 'cpa'] as const;
export type SnapshotSource = (typeof SNAPSHOT_SOURCES)[number];

export interface QuotaWindow {
  kind: WindowKind;
  scope: WindowScope;
  /** For additional / code-review limits: the upstream limit name. */
  limitName: string | null;
  usedPercent: number | null;
  remainingPercent: number | null;
  windowSeconds: number | null;
  resetAfterSeconds: number | null;
  /** ISO time of reset, computed from reset_after_seconds when present (clock-skew safe). */
  resetsAt: string | null;
}

export interface Credits {
  hasCredits: boolean | null;
  unlimited: boolean | null;
  balance: string | null;
}

/** A normalized usage payload. Missing upstream fields are null: unknown, never 0, never healthy. */
export interface QuotaSnapshot {
  plan: string | null;
  allowed: boolean | null;
  limitReached: boolean | null;
  rateLimitReachedType: string | null;
  windows: QuotaWindow[];
  credits: Credits;
  fetchedAt: string;
  /**
   * True when upstream said no rate-limit windows apply: `rate_limit: null` on a 200, or a successful
   * /codex/responses request without x-codex-*-window headers. Absent (undefined) means not said.
   * Not stored: the probe's reason (no_rate_limit_windows) carries it past the store.
   */
  windowless?: boolean;
  /** `spend_control.reached`: the member's workspace spend budget is used up (null/absent: not said). */
  spendControlReached?: boolean | null;
}

/** The classified outcome of one probe: errors are data, not exceptions. */
export interface ProbeResult {
  state: AccountState;
  reason: ProbeReason;
  httpStatus: number | null;
  /** Upstream error code or type, e.g. usage_limit_reached, deactivated_workspace. */
  errorCode: string | null;
  /** Sanitized one-line message: never a token or raw body. */
  message: string | null;
  snapshot: QuotaSnapshot | null;
  /** For exhausted accounts: seconds until capacity returns, when known. */
  resetAfterSeconds: number | null;
  retryAfterSeconds: number | null;
  /** True when the failure says nothing about the account (Cloudflare, 5xx, timeout). */
  transient: boolean;
  source: SnapshotSource;
  fetchedAt: string;
  attempts: number;
  usagePath: string | null;
}
