// An in-memory FleetService for the server and browser tests, until the integrator's core
// (src/core/fleet.ts) can be wired with the simulator. It keeps real secrets in memory so tests can
// assert that none of them ever leaves through a route. Probes can be held open to prove that one
// slow account never blocks the page.
import { maskSecret } from '../../src/domain/account.ts';
import type { QuotaWindow } from '../../src/domain/quota.ts';
import type { Clock } from '../../src/domain/time.ts';
import {
  type AccountView,
  type ActionStatus,
  type ActionView,
  type AuditEntry,
  type AuthFileInput,
  type AuthFileView,
  FleetError,
  type FleetEvent,
  type FleetService,
  HEALTH_STATUSES,
  type HealthStatus,
  type InspectionResultView,
  type InspectionRunView,
  type PoolSummary,
  type RefreshOutcome,
  type ScheduleInput,
  type ScheduleView,
  type SettingsInput,
  type SettingsView,
  type SuggestedAction,
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

interface StoredCpa {
  name: string;
  baseUrl: string;
  managementKey: string | null;
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
  private inspections: InspectionRunView[] = [];
  private actions: ActionView[] = [];
  private audit: AuditEntry[] = [];
  private seq = 0;
  private lastRefreshAt: string | null = null;
  private cpa: StoredCpa[] = [
    { name: 'cpa-main', baseUrl: 'http://127.0.0.1:8317', managementKey: secretFor('mgmt', 1) },
  ];
  private settings: Omit<SettingsView, 'cpaServers'> = {
    thresholds: { '5h': 10, weekly: 10, monthly: 10 },
    policy: { autoDisable: false, autoEnable: false, autoDelete: false },
    webhookUrl: null,
    probeConcurrency: 5,
  };
  private schedule: ScheduleInput = { mode: 'interval', intervalMinutes: 60, dailyTimes: [], timeZone: 'UTC' };
  /** How often refreshAll was called: the server must join a refresh in progress, not start another. */
  refreshAllCalls = 0;
  closed = false;

  constructor(opts: MemoryFleetOptions) {
    this.clock = opts.clock;
    this.probeMs = opts.probeMs ?? 5;
    const n = opts.accounts ?? 12;
    for (let i = 1; i <= n; i++) this.addAccount(i);
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

  async healthReport(): Promise<Record<string, unknown>> {
    const pool = await this.pool();
    return {
      generatedAt: this.iso(),
      accounts: [...this.accounts.values()].map((a) => ({
        name: a.name,
        status: a.status,
        healthScore: a.healthScore,
      })),
      summary: pool.counts,
    };
  }

  async forecast() {
    const pool = await this.pool();
    return {
      generatedAt: this.iso(),
      pool: {
        exhaustsAt: null,
        capacityReturnsAt: pool.nextCapacityAt,
        summary: 'the pool does not run out at the current burn rate',
      },
      accounts: [...this.accounts.values()].map((a) => ({
        accountId: a.id,
        name: a.name,
        window: a.windows[0]?.kind ?? null,
        exhaustsAt: null,
        capacityReturnsAt: a.capacityReturnsAt,
      })),
    };
  }

  private suggest(a: AccountView): InspectionResultView {
    const base = { accountId: a.id, accountName: a.name, plan: a.plan, status: a.status };
    const evidence = { httpStatus: a.state === 'auth_invalid' ? 401 : 200, state: a.state, reason: a.reason };
    let action: SuggestedAction = 'keep';
    let reason = 'quota available';
    if (a.status === 'rate-limited') {
      action = 'disable';
      reason = 'usage limit reached; disable until reset';
    } else if (a.state === 'auth_invalid') {
      action = 'reauth';
      reason = 'token rejected after refresh';
    } else if (a.status === 'disabled' && a.state === 'ok') {
      action = 'enable';
      reason = 'quota recovered';
    }
    return { ...base, action, reason, evidence };
  }

  async runInspection(trigger: 'manual' | 'schedule'): Promise<InspectionRunView> {
    const run: InspectionRunView = {
      id: this.nextId('run'),
      trigger,
      status: 'running',
      startedAt: this.iso(),
      finishedAt: null,
      counts: {},
      results: [],
      log: [`inspection started (${trigger})`],
    };
    this.inspections.unshift(run);
    this.emit('inspection', run.id);
    for (const a of this.accounts.values()) {
      const r = this.suggest(a);
      run.results!.push(r);
      run.counts[r.action] = (run.counts[r.action] ?? 0) + 1;
      run.log!.push(`${a.name}: ${r.action} (${r.reason})`);
      if (r.action !== 'keep' && !this.actions.some((x) => x.accountId === a.id && x.status === 'pending')) {
        this.actions.unshift({
          id: this.nextId('act'),
          accountId: a.id,
          accountName: a.name,
          action: r.action,
          status: 'pending',
          origin: 'inspection',
          reason: r.reason,
          evidence: r.evidence,
          createdAt: this.iso(),
          decidedAt: null,
          decidedBy: null,
          result: null,
        });
      }
    }
    run.status = 'done';
    run.finishedAt = this.iso();
    run.log!.push(`inspection finished: ${run.results!.length} accounts`);
    this.emit('inspection', run.id);
    this.emit('actions');
    return structuredClone(run);
  }

  async listInspections(limit: number): Promise<InspectionRunView[]> {
    return this.inspections.slice(0, limit).map(({ results: _r, log: _l, ...rest }) => structuredClone(rest));
  }

  async getInspection(id: string): Promise<InspectionRunView | null> {
    const run = this.inspections.find((r) => r.id === id);
    return run ? structuredClone(run) : null;
  }

  async listActions(status?: ActionStatus): Promise<ActionView[]> {
    return this.actions.filter((a) => !status || a.status === status).map((a) => structuredClone(a));
  }

  private addAudit(
    actor: string,
    action: string,
    a: AccountView | null,
    reason: string,
    evidence: AuditEntry['evidence'],
    result: string,
  ): void {
    this.audit.unshift({
      id: this.nextId('audit'),
      at: this.iso(),
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

  async decideAction(id: string, decision: 'approve' | 'reject', actor: string): Promise<ActionView> {
    const action = this.actions.find((a) => a.id === id);
    if (!action) throw new FleetError('not_found', `no action with id ${id}`);
    if (action.status !== 'pending') throw new FleetError('conflict', `action ${id} is already ${action.status}`);
    action.decidedAt = this.iso();
    action.decidedBy = actor;
    const account = this.accounts.get(action.accountId) ?? null;
    if (decision === 'reject') {
      action.status = 'rejected';
      action.result = 'rejected';
    } else {
      if (account && (action.action === 'disable' || action.action === 'enable')) {
        account.disabled = action.action === 'disable';
        account.status = account.disabled ? 'disabled' : 'healthy';
      }
      action.status = 'done';
      action.result = `${action.action} applied`;
      this.emit('accounts', action.accountId);
    }
    this.addAudit(actor, `${decision} ${action.action}`, account, action.reason, action.evidence, action.result);
    this.emit('actions', id);
    return structuredClone(action);
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    return this.audit.slice(0, limit).map((a) => structuredClone(a));
  }

  async getSchedule(): Promise<ScheduleView> {
    const s = this.schedule;
    const nextRunAt = s.mode === 'interval' && s.intervalMinutes ? this.iso(s.intervalMinutes * 60) : null;
    return { ...structuredClone(s), nextRunAt };
  }

  async setSchedule(input: ScheduleInput): Promise<ScheduleView> {
    this.schedule = structuredClone(input);
    this.emit('schedule');
    return this.getSchedule();
  }

  async getSettings(): Promise<SettingsView> {
    return {
      ...structuredClone(this.settings),
      cpaServers: this.cpa.map((c) => ({
        name: c.name,
        baseUrl: c.baseUrl,
        managementKey: maskSecret(c.managementKey),
      })),
    };
  }

  async setSettings(input: SettingsInput): Promise<SettingsView> {
    if (input.cpaServers) {
      this.cpa = input.cpaServers.map((c) => ({
        name: c.name,
        baseUrl: c.baseUrl,
        managementKey: c.managementKey ?? this.cpa.find((old) => old.name === c.name)?.managementKey ?? null,
      }));
    }
    if (input.thresholds) Object.assign(this.settings.thresholds, input.thresholds);
    if (input.policy) Object.assign(this.settings.policy, input.policy);
    if (input.webhookUrl !== undefined) this.settings.webhookUrl = input.webhookUrl;
    if (input.probeConcurrency !== undefined) this.settings.probeConcurrency = input.probeConcurrency;
    this.emit('settings');
    return this.getSettings();
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
