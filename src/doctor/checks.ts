// `codex-fleet doctor`: the pure part. Each function turns gathered facts into checks that say
// ok / warning / failed, why, and the fix. I/O lives in gather.ts; docs/doctor.md lists every check.
import type { Account } from '../domain/account.ts';
import type { PolicySettings } from '../domain/inspection.ts';
import { formatDuration } from '../domain/time.ts';

export const DOCTOR_STATUSES = ['ok', 'warning', 'failed'] as const;
export type DoctorStatus = (typeof DOCTOR_STATUSES)[number];

export interface DoctorCheck {
  /** Stable identifier, e.g. `cpa.reachable`, `collector.running`. */
  id: string;
  /** What was checked: a CPA server name, a queue, or null for the whole installation. */
  subject: string | null;
  status: DoctorStatus;
  /** What was found, in one line (never a secret). */
  message: string;
  /** How to fix it; null when nothing needs doing. */
  fix: string | null;
}

/** Seed 003's six causes of an empty monitoring page, each with the checks that decide it. */
export const EMPTY_MONITORING_CAUSES = [
  { id: 'usage_statistics_disabled', title: 'usage statistics disabled on CPA', checks: ['cpa.usage_publishing'] },
  {
    id: 'retention_too_short',
    title: 'queue retention shorter than the collector poll interval',
    checks: ['cpa.usage_retention'],
  },
  {
    id: 'records_taken_elsewhere',
    title: 'a SUBSCRIBE client (or another consumer) takes the records',
    checks: ['monitoring.records_flow'],
  },
  { id: 'no_requests_yet', title: 'no requests through CPA yet', checks: ['cpa.traffic'] },
  {
    id: 'collector_not_running',
    title: 'collector not running, or its lease held elsewhere',
    checks: ['collector.running'],
  },
  { id: 'wrong_key_or_port', title: 'wrong management key or port', checks: ['cpa.reachable'] },
] as const;

export interface EmptyMonitoringCause {
  id: (typeof EMPTY_MONITORING_CAUSES)[number]['id'];
  title: string;
  /** Worst status among its checks; 'unknown' when none ran (no CPA server configured, or the key failed). */
  status: DoctorStatus | 'unknown';
  checks: string[];
}

export interface DoctorReport {
  generatedAt: string;
  /** True when no check failed: the CLI's exit code 0. */
  ok: boolean;
  counts: Record<DoctorStatus, number>;
  checks: DoctorCheck[];
  emptyMonitoring: EmptyMonitoringCause[];
}

const RANK: Record<DoctorStatus, number> = { ok: 0, warning: 1, failed: 2 };

export function worst(statuses: readonly DoctorStatus[]): DoctorStatus | null {
  if (statuses.length === 0) return null;
  return statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

export function buildReport(checks: DoctorCheck[], now: number): DoctorReport {
  const counts: Record<DoctorStatus, number> = { ok: 0, warning: 0, failed: 0 };
  for (const c of checks) counts[c.status]++;
  const emptyMonitoring = EMPTY_MONITORING_CAUSES.map((cause): EmptyMonitoringCause => {
    const ids = cause.checks as readonly string[];
    const status = worst(checks.filter((c) => ids.includes(c.id)).map((c) => c.status));
    return { id: cause.id, title: cause.title, status: status ?? 'unknown', checks: [...ids] };
  });
  return { generatedAt: new Date(now).toISOString(), ok: counts.failed === 0, counts, checks, emptyMonitoring };
}

const check = (
  id: string,
  subject: string | null,
  status: DoctorStatus,
  message: string,
  fix: string | null = null,
): DoctorCheck => ({ id, subject, status, message, fix });

const list = (names: string[], max = 5) =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;

/**
 * Local auth files: unreadable files and accounts without an access token fail (they cannot be
 * checked at all); a missing email, account id or refresh token is a warning.
 */
export function authFileChecks(accounts: readonly Account[], unreadable: readonly string[]): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  if (unreadable.length > 0) {
    out.push(
      check(
        'accounts.readable',
        null,
        'failed',
        `${unreadable.length} auth file(s) could not be read: ${list([...unreadable])}`,
        'fix or remove those files (codex-fleet accounts list shows why each was skipped)',
      ),
    );
  }
  if (accounts.length === 0) {
    out.push(
      check(
        'accounts.metadata',
        null,
        unreadable.length > 0 ? 'failed' : 'warning',
        'no accounts found in the configured sources',
        'put auth files in the account directory (--account-dir) or run `codex-fleet accounts import <path>`',
      ),
    );
    return out;
  }
  // CPA holds its accounts' tokens itself (probes go through api-call): only local files must carry one.
  const noAccess = accounts.filter((a) => a.sourceKind !== 'cpa' && !a.credentials.accessToken).map((a) => a.name);
  if (noAccess.length > 0) {
    out.push(
      check(
        'accounts.tokens',
        null,
        'failed',
        `${noAccess.length} account(s) have no access token: ${list(noAccess)}`,
        'sign those accounts in again (codex login) and re-import their auth files',
      ),
    );
  }
  const gaps = new Map<string, string[]>();
  for (const a of accounts) {
    const missing: string[] = [];
    if (!a.email) missing.push('email');
    if (!(a.accountId ?? a.credentials.accountId)) missing.push('account id');
    // codex-quota files carry only an access token by design, and CPA keeps its accounts' tokens itself.
    const ownsTokens = a.format !== 'codex-quota' && a.sourceKind !== 'cpa';
    if (ownsTokens && !a.credentials.refreshToken) missing.push('refresh token');
    if (missing.length > 0) gaps.set(a.name, missing);
  }
  if (gaps.size === 0) {
    out.push(
      check(
        'accounts.metadata',
        null,
        'ok',
        `${accounts.length} account(s), each with email, account id, type and tokens`,
      ),
    );
  } else {
    const detail = [...gaps].slice(0, 5).map(([name, missing]) => `${name} (no ${missing.join(', ')})`);
    out.push(
      check(
        'accounts.metadata',
        null,
        'warning',
        `${gaps.size} of ${accounts.length} account(s) lack metadata: ${detail.join('; ')}${gaps.size > 5 ? '; …' : ''}`,
        'log those accounts in again so their files carry email and account id; without a refresh token an account stops working when its access token expires',
      ),
    );
  }
  return out;
}

/** The action policy in force, in plain words: what happens without a person. */
export function describePolicy(policy: PolicySettings): string[] {
  const confirm = formatDuration(policy.deleteConfirmMinutes * 60);
  return [
    policy.autoDisable
      ? 'Disable: automatic. Exhausted, blocked or no-Codex accounts are disabled without asking.'
      : 'Disable: waits for approval. Nothing is disabled automatically.',
    policy.autoEnable
      ? 'Enable: automatic, but only for accounts codex-fleet disabled itself; an account a person disabled stays disabled.'
      : 'Enable: waits for approval. Recovered accounts stay disabled until someone approves.',
    policy.autoDelete
      ? `Delete: automatic after the evidence (e.g. a deactivated workspace) is seen on two inspections at least ${confirm} apart.`
      : 'Delete: never automatic. A Delete suggestion becomes a Disable and waits for approval.',
    'Reauth: never automatic. Only a person can sign an account in again.',
  ];
}

export function policyCheck(policy: PolicySettings): DoctorCheck {
  const auto = [policy.autoDisable && 'disable', policy.autoEnable && 'enable', policy.autoDelete && 'delete'].filter(
    Boolean,
  );
  return check(
    'actions.policy',
    null,
    'ok',
    `${auto.length === 0 ? 'manual: every action waits for approval' : `automatic: ${auto.join(', ')}`}. ${describePolicy(policy).join(' ')}`,
    null,
  );
}

export interface CollectorFacts {
  queueId: string;
  /** The lease row, live or expired; null when no collector ever held it. */
  lease: { holder: string; expiresAt: number; acquiredAt: number } | null;
  /** Newest stored request event (ms), null when there is none; undefined when the table is absent. */
  lastEventAt: number | null | undefined;
  now: number;
}

export function collectorCheck(f: CollectorFacts): DoctorCheck {
  const last =
    f.lastEventAt === undefined
      ? 'the monitoring tables do not exist in this store'
      : f.lastEventAt === null
        ? 'no request event stored yet'
        : `last event ${new Date(f.lastEventAt).toISOString()} (${formatDuration(Math.max(0, f.now - f.lastEventAt) / 1000)} ago)`;
  const start = '`codex-fleet serve` (starts the collector when monitoring is configured) or `codex-fleet monitor run`';
  if (!f.lease) {
    return check(
      'collector.running',
      f.queueId,
      'warning',
      `no collector has ever consumed ${f.queueId}; ${last}`,
      `start one: ${start}`,
    );
  }
  if (f.lease.expiresAt <= f.now) {
    return check(
      'collector.running',
      f.queueId,
      'warning',
      `not running: the lease was last held by ${f.lease.holder} and expired ${new Date(f.lease.expiresAt).toISOString()}; ${last}`,
      `start it again: ${start}; records older than CPA's retention are lost meanwhile`,
    );
  }
  return check(
    'collector.running',
    f.queueId,
    'ok',
    `running: ${f.lease.holder} holds the lease since ${new Date(f.lease.acquiredAt).toISOString()}; ${last}`,
  );
}

/** Requests CPA has served since it started (auth files + API-key upstreams); null when unreadable. */
export function trafficCheck(server: string, requests: number | null): DoctorCheck {
  if (requests == null) {
    return check(
      'cpa.traffic',
      server,
      'warning',
      'unknown: CPA did not say how many requests it served',
      'send one request through CPA and look at its management page or logs',
    );
  }
  if (requests === 0) {
    return check(
      'cpa.traffic',
      server,
      'warning',
      'no requests through CPA since it started: there is nothing to monitor yet',
      'send a request through CPA (its /v1 endpoint with a client key), then look again',
    );
  }
  return check('cpa.traffic', server, 'ok', `${requests} request(s) through CPA since it started`);
}

export interface RecordsFlowFacts {
  server: string;
  requests: number | null;
  publishing: boolean | null;
  collectorRunningSince: number | null;
  lastEventAt: number | null | undefined;
}

/**
 * Seed 003's hardest cause: records published but never reaching the store. While a SUBSCRIBE client
 * is connected CPA hands it every record and queues none, and a second popper takes its share. A
 * machine cannot see the other client, so this says what the evidence shows and leaves it a warning.
 */
export function recordsFlowCheck(f: RecordsFlowFacts): DoctorCheck {
  const id = 'monitoring.records_flow';
  if (!f.requests || f.publishing !== true || f.collectorRunningSince == null) {
    return check(
      id,
      f.server,
      'ok',
      'not decidable now (needs traffic, usage publishing on and a running collector); see those checks',
    );
  }
  if (f.lastEventAt != null && f.lastEventAt >= f.collectorRunningSince) {
    return check(id, f.server, 'ok', 'records reach the store while the collector runs');
  }
  return check(
    id,
    f.server,
    'warning',
    `CPA served ${f.requests} request(s) and publishes usage, the collector runs, but no record reached the store since it started: another client may be taking them (or the requests predate the collector and expired)`,
    'stop any other client of the usage queue (a SUBSCRIBE client gets every record and CPA queues none while it is connected; a second collector pops a share); run one collector in one mode',
  );
}

/** Whether `--probe codex-cli|auto` has a Codex CLI to fall back to. */
export function codexCliCheck(bin: string, version: string | null, error: string | null): DoctorCheck {
  if (version) {
    return check(
      'codex_cli.available',
      bin,
      'ok',
      `${version.trim()}: --probe auto can fall back to it after Cloudflare answers`,
    );
  }
  return check(
    'codex_cli.available',
    bin,
    'warning',
    `the Codex CLI cannot be run (${error ?? 'no version printed'}): --probe codex-cli fails and --probe auto cannot fall back`,
    'install it (npm install -g @openai/codex) or point CODEX_CLI_BIN at the binary',
  );
}
