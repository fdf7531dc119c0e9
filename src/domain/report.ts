// The HealthReport of `codex-fleet report --json`, field for field as issue 5 specifies.
// Anything extra goes under an `extensions` key so consumers of the seed's schema keep working.

export const ACCOUNT_STATUSES = ['healthy', 'warning', 'rate-limited', 'disabled', 'error'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export const REPORT_MODES = ['default', 'live'] as const;
export type ReportMode = (typeof REPORT_MODES)[number];

/** Access/refresh token facts that feed the status rules. All times in ms since epoch. */
export interface TokenState {
  /** Access token expiry. */
  expiresAt: number | null;
  /** When the refresh token was last exchanged successfully. */
  lastRefreshAt: number | null;
  /** Consecutive failed refresh attempts (transient ones; permanent ones flag the account). */
  refreshFailures: number;
  /** Whether a refresh token exists at all (an access-token-only account cannot renew itself). */
  hasRefreshToken: boolean;
}

/** Bookkeeping for accounts with a hard auth failure (`invalid_grant`, `refresh_token_*`). */
export interface FlagState {
  flaggedAt: number;
  flaggedReason: string;
  lastVerified: number | null;
  verificationCount: number;
}

export interface HealthReportAccountExtensions {
  name: string;
  /** Why the status is what it is, in operator words. */
  reasons: string[];
  /** When a rate-limited account gets capacity back (ms), when known. */
  resetsAt?: number;
  /** Answered from older data because the latest probe failed transiently or is missing. */
  stale: boolean;
  /** When the data this row is built from was fetched (ms). */
  checkedAt?: number;
  quotaMonthlyPercent?: number;
  plan?: string;
  /** When the paid plan's current term ends (ISO), from the subscriptions endpoint. */
  planEndsAt?: string;
  /** Whether that term renews; false means the account lapses at planEndsAt. */
  planWillRenew?: boolean;
}

export interface HealthReportAccount {
  index: number;
  accountId?: string;
  email?: string;
  status: AccountStatus;
  healthScore: number;
  quota5hPercent?: number;
  quota7dPercent?: number;
  rateLimited: boolean;
  disabled: boolean;
  lastUsed?: number;
  addedAt?: number;
  extensions?: HealthReportAccountExtensions;
}

export interface HealthReportFlagged {
  accountId?: string;
  email?: string;
  flaggedAt: number;
  flaggedReason: string;
  lastVerified?: number;
  verificationCount: number;
}

export interface HealthReportRecommendation {
  index: number;
  email?: string;
  reasoning: string;
}

export interface HealthReport {
  generatedAt: number;
  mode: ReportMode;
  model?: string;
  summary: {
    totalAccounts: number;
    activeAccounts: number;
    flaggedAccounts: number;
    currentAccountEmail?: string;
  };
  accounts: HealthReportAccount[];
  flagged: HealthReportFlagged[];
  recommendation?: HealthReportRecommendation;
  extensions?: Record<string, unknown>;
}
