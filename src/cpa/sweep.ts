// Server inspection of many CPA accounts: the upstream room's sweep (concurrency limit, jittered
// starts, progress, input order) with each probe going through CPA's api-call.
import type { ProbeOutcome } from '../upstream/probe.ts';
import { type ProbeAllOptions, probeAll, type SweepProgress, type SweepTarget } from '../upstream/probe-runner.ts';
import type { CpaClient } from './client.ts';
import { CPA_TOKEN_PLACEHOLDER, type CpaProbeOptions, probeViaCpa } from './probe.ts';
import type { CpaAccount } from './source.ts';

export type CpaSweepOptions = CpaProbeOptions & Pick<ProbeAllOptions, 'concurrency' | 'startJitterMs'>;

/** One result per account, in input order. An account CPA lists without auth_index cannot be probed. */
export async function probeCpaAccounts(
  client: CpaClient,
  accounts: readonly CpaAccount[],
  options: CpaSweepOptions,
  onProgress?: (progress: SweepProgress) => void,
): Promise<ProbeOutcome[]> {
  const byTarget = new Map<SweepTarget, CpaAccount>();
  const targets = accounts.map((a) => {
    // The placeholder stands in for the token, which stays in CPA.
    const t: SweepTarget = { name: a.name, accessToken: CPA_TOKEN_PLACEHOLDER, accountId: a.accountId };
    byTarget.set(t, a);
    return t;
  });
  return probeAll(
    targets,
    {
      ...options,
      probe: async (target, opts) => {
        const account = byTarget.get(target);
        if (!account?.cpa.authIndex) return noAuthIndex(opts.clock?.() ?? Date.now());
        return probeViaCpa(
          client,
          {
            authIndex: account.cpa.authIndex,
            accountId: account.accountId,
            tokenExpiresAt: account.credentials.expiresAt,
          },
          opts,
        );
      },
    },
    onProgress,
  );
}

function noAuthIndex(now: number): ProbeOutcome {
  return {
    state: 'unknown',
    reason: 'no_credentials',
    httpStatus: null,
    errorCode: 'cpa_no_auth_index',
    message: 'CPA lists this file without an auth_index, so api-call cannot use its token',
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'cpa',
    fetchedAt: new Date(now).toISOString(),
    attempts: 0,
    usagePath: null,
  };
}
