// An in-memory FleetService for the server and browser tests, until the integrator's core
// (src/core/fleet.ts) can be wired with the simulator. It keeps real secrets in memory so tests can
// assert that none of them ever leaves through a route. Probes can be held open to prove that one
// slow account never blocks the page.
import type { AuditRecord, QueuedAction } from '../../src/actions/actions-repo.ts';
import { DEFAULT_POLICY_SETTINGS } from '../../src/actions/policy.ts';
import { CpaServers, type SettingsStore } from '../../src/cpa/servers.ts';
import { buildReport, type DoctorReport } from '../../src/doctor/checks.ts';
import { maskSecret } from '../../src/domain/account.ts';
import type { InspectionResult, SuggestedAction } from '../../src/domain/inspection.ts';
import type { QuotaWindow } from '../../src/domain/quota.ts';
import type { HealthReport } from '../../src/domain/report.ts';
import type { Clock } from '../../src/domain/time.ts';
import type { Forecast } from '../../src/inspect/forecast.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../../src/inspect/inspection.ts';
import { DEFAULT_SCHEDULE, nextSlot, type Schedule } from '../../src/inspect/schedule.ts';
import {
  type AccountView,
  type ActionStatus,
  type AuthFileInput,
  type AuthFileView,
  type CpaServerInput,
  type CpaServerView,
  FleetError,
  type FleetEvent,
  type FleetService,
  HEALTH_STATUSES,
  type HealthStatus,
  type InspectionRunView,
  type MonitorMount,
  type PoolSummary,
  type RefreshOutcome,
  type ScheduleView,
  type SettingsInput,
  type SettingsView,
} from '../../src/server/service.ts';

interface StoredAuthFile {
  name: string;
  format: AuthFileView['format'];
  email: string | null;
  accountId: string | null;
  disabled: boolean;
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  modifiedAt: string;
}

/** The settings store CpaServers keeps its list in, in memory. */
class MemorySettings implements SettingsStore {
  private readonly values = new Map<string, unknown>();
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return structuredClone(this.values.get(key)) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value));
  }
}

const PLANS = ['plus', 'pro', 'team', 'free', 'business'];
// Cycle of account situations, so a small fleet shows every status.
const SITUATIONS: Array<{ status: HealthStatus; used5h: number; usedWeek: number }> = [
  { status: 'healthy', used5h: 12, usedWeek: 30 },
  { status: 'healthy', used5h: 40, usedWeek: 55 },
  { status: 'warning', used5h: 88, usedWeek: 70 },
  { status: 'rate-limited', used5h: 100, usedWeek: 80 },
  { status: 'error', used5h: 0, usedWeek: 0 },
  { status: 'healthy', used5h: 5, usedWeek: 10 },
  { status: 'disabled', used5h: 20, usedWeek: 20 },
];

/** A fake token that looks like what the product must never leak. */
export function secretFor(kind: string, i: number): string {
  return `${kind}-SECRET-${String(i).padStart(4, '0')}-abcdefghijklmnopqrstuvwxyz`;
}

export interface MemoryFleetOptions {
  clock: Clock;
  accounts?: number;
  /** Probe latency for every account, in ms (real timers, kept small). */
  probeMs?: number;
}

export class MemoryFleet implements FleetService {
  private readonly clock: Clock;
  private readonly probeMs: number;
  private readonly accounts = new Map<string, AccountView>();
  private readonly authFiles = new Map<string, StoredAuthFile>();
  private readonly listeners = new Set<(e: FleetEvent) => void>();
  private readonly holds = new Map<string, Promise<void>>();
  private inspections: Array<InspectionRunView & { results: InspectionResult[] }> = [];
  private actions: QueuedAction[] = [];
  private audit: AuditRecord[] = [];
  private seq = 0;
  private lastRefreshAt: string | null = null;
  /** The real CPA servers registry (validation, masking) over an in-memory settings store. */
  private readonly cpa = new CpaServers(new MemorySettings());
  private readonly cpaReady: Promise<unknown>;
  private settings: SettingsView = {
    thresholds: structuredClone(DEFAULT_INSPECTION_THRESHOLDS),
    policy: { ...DEFAULT_POLICY_SETTINGS },
    notifications: { webhooks: [], poolLowFraction: 0.2 },
    probeConcurrency: 5,
  };
  private schedule: Schedule = { ...DEFAULT_SCHEDULE, mode: 'interval', intervalMinutes: 60 };
  monitor?: MonitorMount;
  /** How often refreshAll was called: the server must join a refresh in progress, not start another. */
  refreshAllCalls = 0;
  closed = false;

  constructor(opts: MemoryFleetOptions) {
    this.clock = opts.clock;
    this.probeMs = opts.probeMs ?? 5;
    const n = opts.accounts ?? 12;
    for (let i = 1; i <= n; i++) this.addAccount(i);
    this.cpaReady = this.cpa.upsert({
      name: 'cpa-main',
      url: 'http://127.0.0.1:8317',
      managementKey: secretFor('mgmt', 1),
    });
  }

  private iso(offsetSeconds = 0): string {
    return new Date(this.clock() + offsetSeconds * 1000).toISOString();
  }

  private window(kind: '5h' | 'weekly', used: number): QuotaWindow {
    const seconds = kind === '5h' ? 18000 : 604800;
    const resetAfter = kind === '5h' ? 3600 + used * 30 : 200000 - used * 100;
    return {
      kind,
      scope: kind === '5h' ? 'primary' : 'secondary',
      limitName: null,
      usedPercent: used,
      remainingPercent: 100 - used,
      windowSeconds: seconds,
      resetAfterSeconds: resetAfter,
      resetsAt: this.iso(resetAfter),
    };
  }

  private addAccount(i: number): void {
    const s = SITUATIONS[(i - 1) % SITUATIONS.length];
    const name = `acct-${String(i).padStart(2, '0')}`;
    const id = `acc-${String(i).padStart(4, '0')}`;
    const error = s.status === 'error';
    const windows = error ? [] : [this.window('5h', s.used5h), this.window('weekly', s.usedWeek)];
    this.accounts.set(id, {
      id,
      name,
      email: `${name}@example.test`,
      workspaceId: id,
      plan: PLANS[(i - 1) % PLANS.length],
      format: 'cpa',
      sourceKind: 'auth-dir',
      disabled: s.status === 'disabled',
      status: s.status,
      state: error ? 'auth_invalid' : s.status === 'rate-limited' ? 'exhausted' : 'ok',
      reason: error ? 'auth_invalid' : s.status === 'rate-limited' ? 'usage_limit_reached' : 'quota_available',
      message: error ? 'upstream answered 401 after a fresh token refresh' : null,
      healthScore: error ? 0 : Math.max(0, 100 - s.used5h),
      windows,
      credits: { hasCredits: false, unlimited: false, balance: '0' },
      source: 'network',
      lastCheckedAt: this.iso(-120),
      stale: false,
      capacityReturnsAt: s.status === 'rate-limited' ? (windows[0]?.resetsAt ?? null) : null,
      refreshing: false,
    });
    this.authFiles.set(name, {
      name,
      format: 'cpa',
      email: `${name}@example.test`,
      accountId: id,
      disabled: s.status === 'disabled',
      accessToken: secretFor('access', i),
      refreshToken: secretFor('refresh', i),
      idToken: secretFor('id', i),
      modifiedAt: this.iso(-3600),
    });
  }

  private emit(type: FleetEvent['type'], id?: string): void {
    const event: FleetEvent = { type, at: this.iso(), ...(id ? { id } : {}) };
    for (const l of this.listeners) l(event);
  }

  private nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${this.seq}`;
  }

  /** Holds the next probes of one account open until the returned release() is called. */
  holdProbe(accountId: string): () => void {
    let release!: () => void;
    this.holds.set(
      accountId,
      new Promise<void>((r) => {
        release = r;
      }),
    );
    return () => {
      this.holds.delete(accountId);
      release();
    };
  }

  private requireAccount(id: string): AccountView {
    const a = this.accounts.get(id);
    if (!a) throw new FleetError('not_found', `no account with id ${id}`);
    return a;
  }

  async listAccounts(): Promise<AccountView[]> {
    return [...this.accounts.values()].map((a) => structuredClone(a));
  }

  async getAccount(id: string): Promise<AccountView | null> {
    const a = this.accounts.get(id);
    return a ? structuredClone(a) : null;
  }

  async pool(): Promise<PoolSummary> {
    const counts = Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as PoolSummary['counts'];
    let next: string | null = null;
    const sums = { '5h': [0, 0], weekly: [0, 0] } as Record<string, [number, number]>;
    for (const a of this.accounts.values()) {
      counts[a.status] += 1;
      if (a.capacityReturnsAt && (!next || a.capacityReturnsAt < next)) next = a.capacityReturnsAt;
      for (const w of a.windows) {
        if (w.remainingPercent == null || !sums[w.kind]) continue;
        sums[w.kind][0] += w.remainingPercent;
        sums[w.kind][1] += 1;
      }
    }
    const remainingPercent: PoolSummary['remainingPercent'] = {};
    for (const [k, [sum, n]] of Object.entries(sums)) if (n > 0) remainingPercent[k as '5h'] = Math.round(sum / n);
    return {
      total: this.accounts.size,
      counts,
      nextCapacityAt: next,
      remainingPercent,
      lastRefreshAt: this.lastRefreshAt,
      refreshing: [...this.accounts.values()].some((a) => a.refreshing),
    };
  }

  private async probe(a: AccountView): Promise<void> {
    a.refreshing = true;
    this.emit('accounts', a.id);
    await new Promise((r) => setTimeout(r, this.probeMs));
    const hold = this.holds.get(a.id);
    if (hold) await hold;
    a.refreshing = false;
    a.lastCheckedAt = this.iso();
    a.source = 'network';
    this.emit('accounts', a.id);
  }

  async refreshAll(): Promise<RefreshOutcome> {
    this.refreshAllCalls += 1;
    const startedAt = this.iso();
    const all = [...this.accounts.values()];
    await Promise.all(all.map((a) => this.probe(a)));
    this.lastRefreshAt = this.iso();
    this.emit('refresh');
    return { startedAt, finishedAt: this.lastRefreshAt, probed: all.length, failed: 0 };
  }

  async refreshAccount(id: string): Promise<AccountView> {
    const a = this.requireAccount(id);
    await this.probe(a);
    return structuredClone(a);
  }

  async setAccountDisabled(id: string, disabled: boolean, actor: string): Promise<AccountView> {
    const a = this.requireAccount(id);
    a.disabled = disabled;
    a.status = disabled ? 'disabled' : a.state === 'ok' ? 'healthy' : a.status === 'disabled' ? 'unknown' : a.status;
    const file = this.authFiles.get(a.name);
    if (file) file.disabled = disabled;
    this.addAudit(actor, disabled ? 'disable' : 'enable', a, 'requested from the dashboard', {}, 'done');
    this.emit('accounts', id);
    return structuredClone(a);
  }

  /** A HealthReport with this fleet's numbers (the real builder is tested in inspect/). */
  async healthReport(): Promise<HealthReport> {
    const all = [...this.accounts.values()];
    return {
      generatedAt: this.clock(),
      mode: 'default',
      summary: { totalAccounts: all.length, activeAccounts: all.filter((a) => !a.disabled).length, flaggedAccounts: 0 },
      accounts: all.map((a, index) => ({
        index,
        accountId: a.id,
        email: a.email ?? undefined,
        status: a.status === 'unknown' ? 'warning' : a.status,
        healthScore: a.healthScore ?? 0,
        rateLimited: a.status === 'rate-limited',
        disabled: a.disabled,
      })),
      flagged: [],
      recommendation: { index: 0, email: all[0]?.email ?? undefined, reasoning: 'most quota left' },
    };
  }

  /** A fixed report through the real builder: one check of each status (the checks are tested in doctor/). */
  async doctor(): Promise<DoctorReport> {
    return buildReport(
      [
        {
          id: 'auth.files',
          subject: null,
          status: 'ok',
          message: `${this.accounts.size} auth file(s) readable`,
          fix: null,
        },
        {
          id: 'cpa.usage_publishing',
          subject: 'cpa-main',
          status: 'warning',
          message: 'usage statistics are disabled on CPA: no records are published',
          fix: 'set usage-statistics-enabled: true in CPA config.yaml',
        },
        {
          id: 'cpa.reachable',
          subject: 'cpa-main',
          status: 'failed',
          message: 'management key refused (401)',
          fix: 'codex-fleet cpa add cpa-main http://127.0.0.1:8317 with the right key',
        },
      ],
      this.clock(),
    );
  }

  async forecast(): Promise<Forecast> {
    const pool = await this.pool();
    const returns = pool.nextCapacityAt ? Date.parse(pool.nextCapacityAt) : null;
    return {
      generatedAt: this.clock(),
      accounts: [],
      pool: {
        accounts: pool.total,
        withoutData: 0,
        usableNow: pool.counts.healthy + pool.counts.warning,
        exhaustedNow: pool.counts['rate-limited'],
        runsOutAt: null,
        capacityReturnsAt: returns,
        alarm: false,
        note: 'the pool does not run out at the current burn rate',
      },
    };
  }

  private suggest(a: AccountView): InspectionResult {
    let action: SuggestedAction = 'Keep';
    let reason = 'quota available';
    if (a.status === 'rate-limited') {
      action = 'Disable';
      reason = 'usage limit reached; disable until reset';
    } else if (a.state === 'auth_invalid') {
      action = 'Reauth';
      reason = 'token rejected after refresh';
    } else if (a.status === 'disabled' && a.state === 'ok') {
      action = 'Enable';
      reason = 'quota recovered';
    }
    return {
      accountId: a.id,
      accountName: a.name,
      disabled: a.disabled,
      state: a.state ?? 'unknown',
      action,
      reason,
      evidence: {
        httpStatus: a.state === 'auth_invalid' ? 401 : 200,
        probeReason: a.reason,
        errorCode: a.status === 'rate-limited' ? 'usage_limit_reached' : null,
        message: a.message,
        plan: a.plan,
        windows: a.windows.map((w) => ({
          kind: w.kind,
          scope: w.scope,
          limitName: w.limitName,
          usedPercent: w.usedPercent,
          resetsAt: w.resetsAt,
        })),
        limitReached: a.status === 'rate-limited',
        resetsAt: a.capacityReturnsAt,
        tokenExpiresAt: null,
        source: a.source,
        probedAt: a.lastCheckedAt,
        transient: false,
      },
      missing: a.windows.length === 0 ? ['windows'] : [],
      inspectedAt: this.clock(),
    };
  }

  async runInspection(actor: string): Promise<InspectionRunView> {
    const run: InspectionRunView & { results: InspectionResult[] } = {
      id: this.nextId('run'),
      trigger: actor.startsWith('schedule:') ? 'schedule' : 'manual',
      source: 'all',
      status: 'running',
      startedAt: this.clock(),
      finishedAt: null,
      counts: {},
      log: [`inspection started by ${actor}`],
      error: null,
      results: [],
    };
    this.inspections.unshift(run);
    this.emit('inspection', run.id);
    for (const a of this.accounts.values()) {
      const r = this.suggest(a);
      run.results.push(r);
      run.counts[r.action] = (run.counts[r.action] ?? 0) + 1;
      run.log.push(`${a.name}: ${r.action} (${r.reason})`);
      if (r.action !== 'Keep' && !this.actions.some((x) => x.accountId === a.id && x.status === 'pending')) {
        this.actions.unshift({
          id: this.nextId('act'),
          accountId: a.id,
          accountName: a.name,
          action: r.action,
          status: 'pending',
          origin: 'inspection',
          reason: r.reason,
          evidence: { httpStatus: r.evidence.httpStatus, state: r.state, probeReason: r.evidence.probeReason },
          runId: run.id,
          createdAt: this.clock(),
          decidedAt: null,
          decidedBy: null,
          result: null,
        });
      }
    }
    run.status = 'done';
    run.finishedAt = this.clock();
    run.log.push(`inspection finished: ${run.results.length} accounts`);
    this.emit('inspection', run.id);
    this.emit('actions');
    return structuredClone(run);
  }

  async listInspections(limit: number): Promise<InspectionRunView[]> {
    return this.inspections.slice(0, limit).map(({ results: _r, ...rest }) => structuredClone(rest));
  }

  async getInspection(id: string): Promise<InspectionRunView | null> {
    const run = this.inspections.find((r) => r.id === id);
    return run ? structuredClone(run) : null;
  }

  async listActions(status?: ActionStatus): Promise<QueuedAction[]> {
    return this.actions.filter((a) => !status || a.status === status).map((a) => structuredClone(a));
  }

  private addAudit(
    actor: string,
    action: string,
    a: AccountView | null,
    reason: string,
    evidence: AuditRecord['evidence'],
    result: string,
  ): void {
    this.audit.unshift({
      id: this.nextId('audit'),
      at: this.clock(),
      actor,
      action,
      accountId: a?.id ?? null,
      accountName: a?.name ?? null,
      reason,
      evidence,
      result,
    });
    this.emit('audit');
  }

  async decideAction(id: string, decision: 'approve' | 'reject', actor: string): Promise<QueuedAction> {
    const action = this.actions.find((a) => a.id === id);
    if (!action) throw new FleetError('not_found', `no action with id ${id}`);
    if (action.status !== 'pending') throw new FleetError('conflict', `action ${id} is already ${action.status}`);
    action.decidedAt = this.clock();
    action.decidedBy = actor;
    const account = this.accounts.get(action.accountId) ?? null;
    if (decision === 'reject') {
      action.status = 'rejected';
      action.result = 'rejected';
    } else {
      if (account && (action.action === 'Disable' || action.action === 'Enable')) {
        account.disabled = action.action === 'Disable';
        account.status = account.disabled ? 'disabled' : 'healthy';
      }
      action.status = 'done';
      action.result = `${action.action} applied`;
      this.emit('accounts', action.accountId);
    }
    this.addAudit(
      actor,
      `${decision} ${action.action.toLowerCase()}`,
      account,
      action.reason,
      action.evidence,
      action.result,
    );
    this.emit('actions', id);
    return structuredClone(action);
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    return this.audit.slice(0, limit).map((a) => structuredClone(a));
  }

  async getSchedule(): Promise<ScheduleView> {
    return { ...structuredClone(this.schedule), nextRunAt: nextSlot(this.schedule, this.clock()) };
  }

  async setSchedule(schedule: Schedule): Promise<ScheduleView> {
    this.schedule = structuredClone(schedule);
    this.emit('schedule');
    return this.getSchedule();
  }

  async getSettings(): Promise<SettingsView> {
    return structuredClone(this.settings);
  }

  async setSettings(input: SettingsInput): Promise<SettingsView> {
    for (const [w, t] of Object.entries(input.thresholds ?? {})) {
      Object.assign(this.settings.thresholds[w as keyof SettingsView['thresholds']], t);
    }
    if (input.policy) Object.assign(this.settings.policy, input.policy);
    if (input.notifications) Object.assign(this.settings.notifications, input.notifications);
    if (input.probeConcurrency !== undefined) this.settings.probeConcurrency = input.probeConcurrency;
    this.emit('settings');
    return this.getSettings();
  }

  async listCpaServers(): Promise<CpaServerView[]> {
    await this.cpaReady;
    return this.cpa.list();
  }

  async saveCpaServer(input: CpaServerInput): Promise<CpaServerView> {
    const r = await this.cpa.upsert(input);
    if (!r.ok) throw new FleetError('invalid', r.error.message);
    this.emit('settings');
    return r.value;
  }

  async removeCpaServer(name: string): Promise<void> {
    if (!(await this.cpa.remove(name))) throw new FleetError('not_found', `no CPA server named ${name}`);
    this.emit('settings');
  }

  private view(f: StoredAuthFile): AuthFileView {
    return {
      name: f.name,
      format: f.format,
      email: f.email,
      accountId: f.accountId,
      disabled: f.disabled,
      accessToken: maskSecret(f.accessToken),
      refreshToken: maskSecret(f.refreshToken),
      idToken: maskSecret(f.idToken),
      modifiedAt: f.modifiedAt,
    };
  }

  async listAuthFiles(): Promise<AuthFileView[]> {
    return [...this.authFiles.values()].map((f) => this.view(f));
  }

  async getAuthFile(name: string): Promise<AuthFileView | null> {
    const f = this.authFiles.get(name);
    return f ? this.view(f) : null;
  }

  /** Test-only peek at a stored secret, to prove "replaced only on purpose". */
  storedToken(name: string, field: 'accessToken' | 'refreshToken' | 'idToken'): string | null {
    return this.authFiles.get(name)?.[field] ?? null;
  }

  async saveAuthFile(input: AuthFileInput, mode: 'create' | 'update'): Promise<AuthFileView> {
    const existing = this.authFiles.get(input.name);
    if (mode === 'create' && existing) throw new FleetError('conflict', `auth file ${input.name} already exists`);
    if (mode === 'update' && !existing) throw new FleetError('not_found', `no auth file named ${input.name}`);
    const f: StoredAuthFile = existing ?? {
      name: input.name,
      format: input.format ?? 'cpa',
      email: null,
      accountId: null,
      disabled: false,
      accessToken: null,
      refreshToken: null,
      idToken: null,
      modifiedAt: this.iso(),
    };
    if (input.format) f.format = input.format;
    if (input.email !== undefined) f.email = input.email;
    if (input.accountId !== undefined) f.accountId = input.accountId;
    if (input.disabled !== undefined) f.disabled = input.disabled;
    if (input.accessToken !== undefined) f.accessToken = input.accessToken;
    if (input.refreshToken !== undefined) f.refreshToken = input.refreshToken;
    if (input.idToken !== undefined) f.idToken = input.idToken;
    f.modifiedAt = this.iso();
    this.authFiles.set(f.name, f);
    this.emit('auth-files', f.name);
    return this.view(f);
  }

  async deleteAuthFile(name: string): Promise<void> {
    if (!this.authFiles.delete(name)) throw new FleetError('not_found', `no auth file named ${name}`);
    this.emit('auth-files', name);
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    const lines = ['# HELP codex_fleet_account_remaining_percent Remaining quota per window.'];
    lines.push('# TYPE codex_fleet_account_remaining_percent gauge');
    for (const a of this.accounts.values()) {
      for (const w of a.windows) {
        lines.push(
          `codex_fleet_account_remaining_percent{account="${a.name}",window="${w.kind}"} ${w.remainingPercent}`,
        );
      }
    }
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: `${lines.join('\n')}\n` };
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
