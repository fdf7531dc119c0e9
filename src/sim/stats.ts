// Counters a test or benchmark reads back: what the simulator saw, never what it was sent (no secrets).

export interface SimStats {
  /** path → status (or "cancelled") → count */
  requests: Record<string, Record<string, number>>;
  totalRequests: number;
  inFlight: number;
  peakInFlight: number;
  /** Highest concurrent requests seen from one client IP. */
  peakInFlightPerIp: number;
  refreshes: number;
  refreshFailures: number;
  /** Attempts to use a refresh token that had already been rotated away. */
  reusedRefreshTokens: number;
  cloudflareChallenges: number;
  /** What clients sent on backend calls, so tests can check the headers of UPSTREAM.md §1. */
  headers: {
    withOriginator: number;
    accountIdMatch: number;
    accountIdMismatch: number;
    accountIdMissing: number;
    /** user-agent → count (at most 20 distinct values). */
    userAgents: Record<string, number>;
  };
}

const MAX_USER_AGENTS = 20;

function emptyStats(): SimStats {
  return {
    requests: {},
    totalRequests: 0,
    inFlight: 0,
    peakInFlight: 0,
    peakInFlightPerIp: 0,
    refreshes: 0,
    refreshFailures: 0,
    reusedRefreshTokens: 0,
    cloudflareChallenges: 0,
    headers: { withOriginator: 0, accountIdMatch: 0, accountIdMismatch: 0, accountIdMissing: 0, userAgents: {} },
  };
}

export function createStats() {
  const stats = emptyStats();
  const perIp = new Map<string, number>();
  return {
    stats,
    /** Marks a request in flight; returns how many the client IP now has, this one included. */
    enter(ip: string): number {
      const n = (perIp.get(ip) ?? 0) + 1;
      perIp.set(ip, n);
      stats.inFlight += 1;
      stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
      stats.peakInFlightPerIp = Math.max(stats.peakInFlightPerIp, n);
      return n;
    },
    leave(ip: string): void {
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
      stats.inFlight -= 1;
    },
    record(path: string, status: number | 'cancelled'): void {
      const byStatus = stats.requests[path] ?? {};
      stats.requests[path] = byStatus;
      byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
      stats.totalRequests += 1;
    },
    /** Notes the identifying headers of one backend call (never the Authorization header). */
    headersSeen(
      originator: string | undefined,
      accountIdHeader: string | undefined,
      accountId: string | null,
      userAgent: string | undefined,
    ): void {
      const h = stats.headers;
      if (originator) h.withOriginator += 1;
      if (!accountIdHeader) h.accountIdMissing += 1;
      else if (accountId != null && accountIdHeader === accountId) h.accountIdMatch += 1;
      else h.accountIdMismatch += 1;
      const ua = (userAgent ?? '(none)').slice(0, 200);
      if (ua in h.userAgents || Object.keys(h.userAgents).length < MAX_USER_AGENTS) {
        h.userAgents[ua] = (h.userAgents[ua] ?? 0) + 1;
      }
    },
    /** Zeroes the counters (requests still in flight stay counted), e.g. after a benchmark's warm-up. */
    reset(): void {
      const inFlight = stats.inFlight;
      Object.assign(stats, emptyStats(), { inFlight, peakInFlight: inFlight });
    },
    /** A deep copy, so callers can compare before/after. */
    snapshot(): SimStats {
      return structuredClone(stats);
    },
  };
}
export type StatsRecorder = ReturnType<typeof createStats>;
