// Pure: does what requests through CPA say about an account disagree with what its last probe said?
// Only requests after the probe count (an older failure is already answered by the newer probe). A
// disagreement asks for a re-probe and is shown as evidence; it never acts on the account by itself.
import type { AccountState } from '../domain/quota.ts';

/** Per-account request outcomes over a recent span, as monitoring counts them. */
export interface RequestOutcomes {
  requests: number;
  failures: number;
  /** Failures that say the account's sign-in is broken (401, 403 with an auth code). */
  authFailures: number;
  /** Failures that say the account's quota is used up (429 usage_limit_reached and friends). */
  quotaFailures: number;
  successes: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export interface ProbeVerdict {
  state: AccountState | null;
  /** When the probe's answer was taken (ms); requests before it are not evidence against it. */
  checkedAt: number | null;
  /** Disabled, and by whom: a person's disable is a decision, not a verdict. */
  disabledBy: 'codex-fleet' | 'person' | null;
}

export interface DisagreementSettings {
  /** This many auth or quota failures since the probe, and … */
  minFailures: number;
  /** … at least this share of the requests since the probe failed that way. */
  minFailureShare: number;
  /** This many successes since the probe contradict an exhausted or codex-fleet-disabled verdict. */
  minSuccesses: number;
  /** At most one re-probe per account in this many minutes. */
  reprobeEveryMinutes: number;
}

export const DEFAULT_DISAGREEMENT_SETTINGS: DisagreementSettings = {
  minFailures: 5,
  minFailureShare: 0.5,
  minSuccesses: 3,
  reprobeEveryMinutes: 5,
};

export const DISAGREEMENT_KINDS = [
  'usable_but_quota_failures',
  'usable_but_auth_failures',
  'exhausted_but_succeeding',
  'disabled_but_succeeding',
] as const;
export type DisagreementKind = (typeof DISAGREEMENT_KINDS)[number];

export interface Disagreement {
  kind: DisagreementKind;
  /** Operator words: what the probe said, what the requests say. */
  summary: string;
}

const USABLE: ReadonlySet<AccountState> = new Set(['ok']);

export function detectDisagreement(
  verdict: ProbeVerdict,
  sinceProbe: RequestOutcomes,
  settings: DisagreementSettings = DEFAULT_DISAGREEMENT_SETTINGS,
): Disagreement | null {
  if (verdict.state == null || verdict.checkedAt == null || sinceProbe.requests === 0) return null;
  const share = (n: number) => n / sinceProbe.requests;
  const fails = (n: number) => n >= settings.minFailures && share(n) >= settings.minFailureShare;
  if (verdict.disabledBy == null && USABLE.has(verdict.state)) {
    if (fails(sinceProbe.quotaFailures)) {
      return {
        kind: 'usable_but_quota_failures',
        summary: `probe says usable, but ${sinceProbe.quotaFailures} of ${sinceProbe.requests} requests since failed with a quota limit`,
      };
    }
    if (fails(sinceProbe.authFailures)) {
      return {
        kind: 'usable_but_auth_failures',
        summary: `probe says usable, but ${sinceProbe.authFailures} of ${sinceProbe.requests} requests since failed to authenticate`,
      };
    }
  }
  if (sinceProbe.successes >= settings.minSuccesses) {
    if (verdict.disabledBy === 'codex-fleet') {
      return {
        kind: 'disabled_but_succeeding',
        summary: `disabled by codex-fleet, but ${sinceProbe.successes} requests since succeeded`,
      };
    }
    if (verdict.disabledBy == null && verdict.state === 'exhausted') {
      return {
        kind: 'exhausted_but_succeeding',
        summary: `probe says exhausted, but ${sinceProbe.successes} requests since succeeded: it may have reset early`,
      };
    }
  }
  return null;
}

/** Whether a disagreement may trigger a re-probe now (rate-limited per account). */
export function mayReprobe(
  lastReprobeAt: number | null,
  now: number,
  settings = DEFAULT_DISAGREEMENT_SETTINGS,
): boolean {
  return lastReprobeAt == null || now - lastReprobeAt >= settings.reprobeEveryMinutes * 60_000;
}

/** Which class a failed request's status and type fall in, for the counts above. */
export function failureClass(status: number, failureType: string | null): 'auth' | 'quota' | 'other' {
  const type = failureType ?? '';
  if (status === 429 && /usage_limit|rate_limit|quota|credits/.test(type)) return 'quota';
  if (/usage_limit_reached|insufficient_quota|credits_depleted/.test(type)) return 'quota';
  if (status === 401) return 'auth';
  if (status === 403 && /token|auth|deactivated|unauthori[sz]ed/.test(type)) return 'auth';
  return 'other';
}
