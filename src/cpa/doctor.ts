// Checks of one CPA server for `codex-fleet doctor` (issue 10): reachable with a working key, usage
// publishing on, retention long enough for the collector, auth-file metadata, auth_index stability.
// Ban safety: the key is tested by exactly one authenticated call; nothing else runs if it fails.
import type { CpaClient } from './client.ts';
import type { CpaAuthFile } from './types.ts';

export const CHECK_STATUSES = ['ok', 'warning', 'failed'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface CpaCheck {
  id: 'cpa.reachable' | 'cpa.usage_publishing' | 'cpa.usage_retention' | 'cpa.auth_metadata' | 'cpa.auth_index_stable';
  server: string;
  status: CheckStatus;
  /** What was found, in one line. */
  message: string;
  /** How to fix it; null when ok. */
  fix: string | null;
}

export interface CpaDoctorOptions {
  /** How often the collector pops the usage queue. Default 10 s. */
  pollIntervalSeconds?: number;
  /** auth_index per file name from the last run, to spot a moved auth dir. */
  previousAuthIndexes?: Record<string, string> | null;
}

export interface CpaDoctorReport {
  checks: CpaCheck[];
  /** Save for the next run's auth_index comparison. */
  authIndexes: Record<string, string>;
}

export async function checkCpaServer(client: CpaClient, options: CpaDoctorOptions = {}): Promise<CpaDoctorReport> {
  const server = client.name;
  const check = (id: CpaCheck['id'], status: CheckStatus, message: string, fix: string | null = null): CpaCheck => ({
    id,
    server,
    status,
    message,
    fix,
  });
  const generation = await client.detectGeneration();
  if (!generation.ok) {
    const e = generation.error;
    const fix =
      e.kind === 'unauthorized' || e.kind === 'breaker_open'
        ? 'set the right management key for this server (codex-fleet tried once and stopped; CPA bans an IP after 5 bad keys)'
        : e.kind === 'no_management_api'
          ? 'set remote-management.secret-key in CPA config.yaml and restart CPA'
          : e.kind === 'forbidden'
            ? 'use CPA from loopback or set remote-management.allow-remote: true; if the IP is banned, wait 30 minutes'
            : 'check the URL and that CPA is running';
    return { checks: [check('cpa.reachable', 'failed', e.message, fix)], authIndexes: {} };
  }
  const checks = [check('cpa.reachable', 'ok', `reachable, management key accepted (${generation.value} routes)`)];

  const poll = options.pollIntervalSeconds ?? 10;
  const usage = await client.usageSettings();
  if (!usage.ok) {
    checks.push(check('cpa.usage_publishing', 'warning', usage.error.message, 'check CPA config by hand'));
  } else {
    const u = usage.value;
    checks.push(
      u.usageStatisticsEnabled
        ? check('cpa.usage_publishing', 'ok', 'usage-statistics-enabled is true')
        : check(
            'cpa.usage_publishing',
            'failed',
            `usage-statistics-enabled is false${u.defaulted.includes('usage-statistics-enabled') ? ' (not set; CPA default)' : ''}: CPA publishes no usage records, so monitoring stays empty`,
            'set usage-statistics-enabled: true in CPA config.yaml',
          ),
    );
    const retention = `redis-usage-queue-retention-seconds is ${u.retentionSeconds}${u.defaulted.includes('redis-usage-queue-retention-seconds') ? ' (CPA default)' : ''}`;
    const retentionFix = `raise redis-usage-queue-retention-seconds (max 3600) well above the ${poll} s poll interval`;
    if (u.retentionSeconds <= poll) {
      checks.push(
        check(
          'cpa.usage_retention',
          'failed',
          `${retention}, not above the ${poll} s poll interval: records expire unread`,
          retentionFix,
        ),
      );
    } else if (u.retentionSeconds < poll * 3) {
      checks.push(
        check(
          'cpa.usage_retention',
          'warning',
          `${retention}: one slow poll can lose records (poll every ${poll} s)`,
          retentionFix,
        ),
      );
    } else {
      checks.push(check('cpa.usage_retention', 'ok', `${retention}, poll every ${poll} s`));
    }
  }

  const listed = await client.listAuthFiles();
  if (!listed.ok) {
    checks.push(check('cpa.auth_metadata', 'warning', listed.error.message, 'check the server'));
    return { checks, authIndexes: {} };
  }
  checks.push(metadataCheck(server, listed.value));
  const authIndexes = Object.fromEntries(
    listed.value.filter((f) => f.authIndex).map((f) => [f.name, f.authIndex as string]),
  );
  if (options.previousAuthIndexes) {
    const changed = changedAuthIndexes(options.previousAuthIndexes, authIndexes);
    checks.push(
      changed.length === 0
        ? check('cpa.auth_index_stable', 'ok', 'auth_index values unchanged since the last run')
        : check(
            'cpa.auth_index_stable',
            'warning',
            `auth_index changed for ${changed.length} file(s) (${changed.slice(0, 5).join(', ')}): the auth dir probably moved, so history splits`,
            "keep CPA's auth-dir at one absolute path; if it moved on purpose, ignore this once",
          ),
    );
  }
  return { checks, authIndexes };
}

/** Pure: names present in both maps whose auth_index differs. */
export function changedAuthIndexes(previous: Record<string, string>, current: Record<string, string>): string[] {
  return Object.keys(current)
    .filter((name) => name in previous && previous[name] !== current[name])
    .sort();
}

function metadataCheck(server: string, files: CpaAuthFile[]): CpaCheck {
  const codex = files.filter((f) => (f.type ?? f.provider ?? '').toLowerCase() === 'codex');
  const incomplete = codex.filter((f) => !f.email || !f.authIndex);
  if (incomplete.length === 0) {
    return {
      id: 'cpa.auth_metadata',
      server,
      status: 'ok',
      message: `${codex.length} codex auth file(s), each with email and auth_index`,
      fix: null,
    };
  }
  return {
    id: 'cpa.auth_metadata',
    server,
    status: 'warning',
    message: `${incomplete.length} of ${codex.length} codex auth file(s) lack email or auth_index: ${incomplete
      .slice(0, 5)
      .map((f) => f.name)
      .join(', ')}`,
    fix: 'log those accounts in again through CPA so their files carry full metadata',
  };
}
