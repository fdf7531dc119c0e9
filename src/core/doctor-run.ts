// `codex-fleet doctor` and the dashboard's doctor page call runDoctor(fleet): it gathers the facts
// (accounts, policy, every configured CPA server, the collector's lease and the event table) and lets
// checks.ts judge them. Ban safety: each CPA key is tried by exactly one call (the client's breaker
// stops at the first 401 and remembers it across runs); nothing else is sent with a key that failed.
import { execFile } from 'node:child_process';
import type { CpaClient, CpaClientOptions } from '../cpa/client.ts';
import { checkCpaServer } from '../cpa/doctor.ts';
import { CPA_ROUTES } from '../cpa/routes.ts';
import { CpaServers } from '../cpa/servers.ts';
import {
  authFileChecks,
  buildReport,
  codexCliCheck,
  collectorCheck,
  type DoctorCheck,
  type DoctorReport,
  policyCheck,
  recordsFlowCheck,
  trafficCheck,
} from '../doctor/checks.ts';
import { leaseNameFor } from '../monitor/collector.ts';
import { HttpQueueSource } from '../monitor/collectors/http-queue.ts';
import { codexCliBin } from '../upstream/codex-cli-probe.ts';
import type { Fleet } from './fleet.ts';
import { loadInspectionSettings } from './inspection-run.ts';

/** auth_index per file name, per CPA server, as seen on the last doctor run. */
export const AUTH_INDEX_SETTING = 'doctor.authIndexes';

interface SettingsLike {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

/** The one auth_index baseline per CPA server, shared by `doctor` and `cpa check`. */
export async function readAuthIndexBaseline(
  settings: SettingsLike,
  server: string,
): Promise<Record<string, string> | null> {
  return (await settings.get<Record<string, Record<string, string>>>(AUTH_INDEX_SETTING))?.[server] ?? null;
}

export async function saveAuthIndexBaseline(
  settings: SettingsLike,
  server: string,
  indexes: Record<string, string>,
): Promise<void> {
  const all = (await settings.get<Record<string, Record<string, string>>>(AUTH_INDEX_SETTING)) ?? {};
  await settings.set(AUTH_INDEX_SETTING, { ...all, [server]: indexes });
}
/** How often a collector is assumed to drain the queue when judging CPA's retention. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 10;

export interface DoctorOptions {
  pollIntervalSeconds?: number;
  /** For tests: timeouts of the CPA clients. */
  cpaClientOptions?: CpaClientOptions;
  /** Where CODEX_CLI_BIN is read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export async function runDoctor(fleet: Fleet, options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const loaded = await fleet.accounts();
  checks.push(...authFileChecks(loaded.accounts, [...new Set(loaded.errors.map((e) => e.path))]));
  const { policy } = await loadInspectionSettings(fleet);
  checks.push(policyCheck(policy));
  const bin = codexCliBin(options.env);
  const cli = await cliVersion(bin);
  checks.push(codexCliCheck(bin, cli.version, cli.error));

  const servers = new CpaServers(fleet.repos.settings, options.cpaClientOptions);
  const views = await servers.list();
  if (views.length === 0) {
    checks.push({
      id: 'cpa.configured',
      subject: null,
      status: 'warning',
      message: 'no CPA server configured: CPA, collector and monitoring checks skipped',
      fix: 'if you use CPA: CODEX_FLEET_CPA_KEY=… codex-fleet cpa add <name> http://127.0.0.1:8317',
    });
  }
  const lastEventAt = await newestEventAt(fleet);
  const previous = (await fleet.repos.settings.get<Record<string, Record<string, string>>>(AUTH_INDEX_SETTING)) ?? {};
  const seen: Record<string, Record<string, string>> = { ...previous };
  for (const view of views) {
    const got = await servers.client(view.name);
    if (!got.ok) continue;
    const client = got.value;
    const cpa = await checkCpaServer(client, {
      pollIntervalSeconds: options.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS,
      previousAuthIndexes: previous[view.name] ?? null,
    });
    for (const c of cpa.checks)
      checks.push({ id: c.id, subject: c.server, status: c.status, message: c.message, fix: c.fix });
    const reachable = cpa.checks.some((c) => c.id === 'cpa.reachable' && c.status === 'ok');
    if (reachable && !previous[view.name] && cpa.checks.some((c) => c.id === 'cpa.auth_metadata')) {
      checks.push({
        id: 'cpa.auth_index_stable',
        subject: view.name,
        status: 'ok',
        message: `first run: ${Object.keys(cpa.authIndexes).length} auth_index value(s) recorded; later runs compare against them`,
        fix: null,
      });
    }
    if (reachable) seen[view.name] = cpa.authIndexes;

    const queueId = new HttpQueueSource(client, view.url).queueId;
    const lease = await leaseRow(fleet, leaseNameFor(queueId));
    const now = fleet.clock();
    checks.push(collectorCheck({ queueId, lease, lastEventAt, now }));
    if (!reachable) continue;
    const requests = await requestsServed(client, view.url, (await servers.config(view.name))?.managementKey ?? '');
    checks.push(trafficCheck(view.name, requests));
    const publishing = cpa.checks.find((c) => c.id === 'cpa.usage_publishing');
    checks.push(
      recordsFlowCheck({
        server: view.name,
        requests,
        publishing: publishing ? publishing.status === 'ok' : null,
        collectorRunningSince: lease && lease.expiresAt > now ? lease.acquiredAt : null,
        lastEventAt,
      }),
    );
  }
  await fleet.repos.settings.set(AUTH_INDEX_SETTING, seen);
  await servers.settled();
  return buildReport(checks, fleet.clock());
}

/** Newest stored request event (ms); null when none; undefined when the monitor tables are absent. */
async function newestEventAt(fleet: Fleet): Promise<number | null | undefined> {
  try {
    const row = await fleet.repos.db.get<{ ts: number | string | null }>('SELECT MAX(ts) AS ts FROM mon_event');
    return row?.ts == null ? null : Number(row.ts);
  } catch {
    return undefined;
  }
}

async function leaseRow(
  fleet: Fleet,
  name: string,
): Promise<{ holder: string; expiresAt: number; acquiredAt: number } | null> {
  const row = await fleet.repos.db.get<{ holder: string; expires_at: number; acquired_at: number }>(
    'SELECT holder, expires_at, acquired_at FROM leases WHERE name = ?',
    [name],
  );
  return row ? { holder: row.holder, expiresAt: Number(row.expires_at), acquiredAt: Number(row.acquired_at) } : null;
}

interface Counted {
  success?: unknown;
  failed?: unknown;
}
const countOf = (x: Counted) =>
  (typeof x.success === 'number' ? x.success : 0) + (typeof x.failed === 'number' ? x.failed : 0);

/**
 * Requests CPA served since it started: success + failed of every auth file and of every API-key
 * upstream (`api-key-usage`, v0 only). Called only after the key was accepted in this run; any
 * refusal or odd answer gives null ("unknown"), never a retry.
 */
async function requestsServed(client: CpaClient, url: string, key: string): Promise<number | null> {
  const generation = client.generation;
  if (!generation || !key) return null;
  const base = url.replace(/\/+$/, '');
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      headers: { Authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.json();
  };
  try {
    const files = ((await get(CPA_ROUTES[generation].authFiles)) as { files?: Counted[] }).files ?? [];
    let total = files.reduce((n, f) => n + countOf(f), 0);
    if (generation === 'v0') {
      // {provider: {"<base-url>|<key>": {success, failed, …}}}: API-key upstreams such as openai-compatibility.
      const usage = (await get('/v0/management/api-key-usage')) as Record<string, Record<string, Counted>>;
      for (const provider of Object.values(usage ?? {}))
        for (const entry of Object.values(provider ?? {})) total += countOf(entry ?? {});
    }
    return total;
  } catch {
    return null;
  }
}

/** `codex --version`, bounded: a broken binary must not hang the doctor. */
function cliVersion(bin: string): Promise<{ version: string | null; error: string | null }> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ version: null, error: code === 'ENOENT' ? 'not found' : (error.message.split('\n')[0] ?? 'failed') });
      } else resolve({ version: stdout.split('\n')[0] || null, error: null });
    });
  });
}
