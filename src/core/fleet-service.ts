// The real FleetService: what the server and dashboard read and change, implemented over the core.
// Secrets never leave here unmasked. Background work (scheduled inspections, webhooks) starts here too.

import { EventEmitter } from 'node:events';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../accounts/atomic-write.ts';
import { readAuthFile } from '../accounts/auth-file.ts';
import { isLoadError } from '../accounts/formats/index.ts';
import { type JsonStyle, stringifyJson } from '../accounts/formats/json-style.ts';
import {
  AUTH_FILE_NAME,
  AUTH_FILE_NAME_RULE,
  addAccountFile,
  deleteAccountFile,
  moveToTrash,
  multiAccountFileRefusal,
  readImportPath,
} from '../accounts/manage.ts';
import type { QueuedAction } from '../actions/actions-repo.ts';
import { ActionsRepo } from '../actions/actions-repo.ts';
import { decideQueuedAction, manualSetDisabled } from '../actions/execute.ts';
import type { CpaServerInput, CpaServers } from '../cpa/servers.ts';
import type { DoctorReport } from '../doctor/checks.ts';
import { type Account, type AuthFileFormat, maskSecret } from '../domain/account.ts';
import type { WindowKind } from '../domain/quota.ts';
import type { Clock } from '../domain/time.ts';
import { forecastAccount, type PoolForecast } from '../inspect/forecast.ts';
import { accountSeries, poolSeriesFromSummary, type SeriesRange } from '../inspect/history-series.ts';
import { RunsRepo } from '../inspect/runs-repo.ts';
import type { Schedule } from '../inspect/schedule.ts';
import { deriveStatus } from '../inspect/status.ts';
import { mainWindows } from '../inspect/windows.ts';
import type { MonitorFilter } from '../monitor/filters.ts';
import type { CollectorVia, RunningCollector } from '../monitor/run.ts';
import type { MonitorService } from '../monitor/service.ts';
import { disagreementEvent } from '../notify/changes.ts';
import type { AlertChannel } from '../notify/channels.ts';
import { Notifier, type NotifierMemory } from '../notify/notifier.ts';
import { fsPromises } from '../runtime/fs.ts';
import { probeFromSnapshot } from '../store/snapshots-repo.ts';
import { type AccountList, AccountListCache } from './account-list-cache.ts';
import type { AccountLoadResult } from './account-registry.ts';
import {
  extraChannels,
  mergeNotificationSettings,
  NOTIFY_SETTING,
  type NotificationSettings,
  normalizeNotificationSettings,
  notifierView,
  PlanTerms,
  publicNotificationSettings,
  storeDeliveryLog,
} from './alerting.ts';
import type { FleetConfig } from './config.ts';
import { isCpaAccount } from './cpa-accounts.ts';
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  Fleet,
  type ProbeDefaults,
  type QuotaCheckOptions,
  type QuotaCheckResult,
} from './fleet.ts';
import type { InspectionOptions, InspectionOutcome } from './inspection-run.ts';
import { type LeaderTasks, startLeaderTasks } from './leader-tasks.ts';
import { type QuotaRow, rowKeepingLastGood } from './quota-rows.ts';
import type { RequestOutcomesJoin } from './request-outcomes.ts';
import { readInspectionSettings, readProbeConcurrency, writeInspectionSettings } from './settings.ts';
import { createStateFileWriter } from './state-file.ts';
import type {
  AccountView,
  AuthFileInput,
  AuthFileView,
  FleetEvent,
  FleetEventType,
  HealthStatus,
  InspectionRunView,
  MonitorMount,
  PoolSummary,
  RefreshOutcome,
  SettingsView,
} from './views.ts';
import { FleetError, HEALTH_STATUSES } from './views.ts';

const NOTIFY_MEMORY = 'notify.memory';
const LAST_REFRESH_SETTING = 'quota.lastRefreshAt';
const NEW_FILE_STYLE: JsonStyle = { indent: '  ', trailingNewline: false, escapeHtml: false };

export interface FleetServiceOptions {
  config: FleetConfig;
  /** Collect this CPA server's usage queue (leader only): `serve --collect <server>[:resp|subscribe|http]`. */
  collect?: { server: string; via: CollectorVia };
  accountName?: string;
  stateFile?: string;
  refreshOnStart?: boolean;
  /** The fleet's clock (default: the system's); tests pass the simulator's so time moves for both. */
  clock?: Clock;
  /** Background schedules and webhooks (default true; the CLI and tests turn them off). */
  background?: boolean;
  /** Request monitoring queries (default true; one-shot CLI commands that never read them skip it). */
  monitoring?: boolean;
  /** `--probe` and `--concurrency` as the face was given them: they reach every probe this process runs. */
  probe?: ProbeDefaults['probe'];
  concurrency?: number;
}

/** Inspection and action orchestration (with every executor) loads with the first inspection or action. */
const inspectionRun = () => import('./inspection-run.ts');

export async function createFleetService(options: FleetServiceOptions): Promise<FleetService> {
  const fleet = await Fleet.open(options.config, options.clock);
  // Loaded only where monitoring is read: a one-shot report never pays for its query and filter modules.
  const monitor = options.monitoring === false ? null : await openMonitoring(fleet);
  return new FleetService(fleet, options, monitor);
}

/** The request/account join (issue 20) as a module: it is only ever used beside the monitoring views. */
type OutcomesModule = typeof import('./request-outcomes.ts');

interface Monitoring {
  service: MonitorService;
  outcomes: OutcomesModule;
}

async function openMonitoring(fleet: Fleet): Promise<Monitoring> {
  const [{ createMonitorService }, outcomes] = await Promise.all([
    import('../monitor/service.ts'),
    import('./request-outcomes.ts'),
  ]);
  return { service: await createMonitorService({ db: fleet.repos.db, clock: fleet.clock }), outcomes };
}

/**
 * The application core: the one service every face calls (CLI commands, HTTP routes, the scheduler and
 * the collector). `actor` arguments name the person who acts (`cli`, `local`, `admin-key`,
 * `dashboard`); the audit log records them as `person:<actor>`, so a disable from either face is owned
 * the same way.
 */
export class FleetService {
  readonly fleet: Fleet;
  readonly #options: FleetServiceOptions;
  readonly #events = new EventEmitter();
  readonly #refreshing = new Set<string>();
  readonly #servers: CpaServers;
  #leader: LeaderTasks | null = null;
  readonly #ready: Promise<void>;
  readonly #stateFile: ReturnType<typeof createStateFileWriter> | null;
  readonly #notifier: Notifier;
  #notifySettings: NotificationSettings = normalizeNotificationSettings(undefined);
  #alertChannels: AlertChannel[] = [];
  readonly #planTerms: PlanTerms;
  #planTermChore: Promise<unknown> | null = null;
  #flushTimer: NodeJS.Timeout | null = null;
  #sweepInFlight = false;
  #doctorRun: Promise<DoctorReport> | null = null;
  /** The account list, built once per change (every #emit invalidates it); see account-list-cache.ts. */
  readonly #accountList = new AccountListCache(() => this.fleet.clock());

  /** Request monitoring views (always) and, when asked for, the collector on the leader. */
  readonly monitor?: MonitorMount;
  readonly #monitorService: MonitorService | null;
  #collector: RunningCollector | null = null;
  /** Issue 20: requests through CPA joined to accounts, and the disagreement loop. */
  readonly requestOutcomes: RequestOutcomesJoin | null;
  readonly #outcomes: OutcomesModule | null;

  constructor(fleet: Fleet, options: FleetServiceOptions, monitoring: Monitoring | null = null) {
    const monitor = monitoring?.service ?? null;
    this.fleet = fleet;
    this.#monitorService = monitor;
    this.#outcomes = monitoring?.outcomes ?? null;
    if (monitor) {
      this.monitor = {
        service: monitor,
        collector: () => this.#collector?.collector.stats ?? null,
        events: monitor.emitter,
      };
    }
    this.#options = options;
    this.requestOutcomes = monitoring ? this.#openRequestOutcomes(monitoring) : null;
    fleet.setProbeDefaults({ probe: options.probe, concurrency: options.concurrency });
    this.#events.setMaxListeners(0);
    this.#servers = fleet.cpaServers;
    this.#planTerms = new PlanTerms(fleet.repos.settings);
    this.#notifier = new Notifier(
      () => ({
        targets: this.#notifySettings.webhooks,
        channels: this.#alertChannels,
        poolLowFraction: this.#notifySettings.poolLowFraction,
        rules: this.#notifySettings.rules,
        schedule: this.#notifySettings.schedule,
      }),
      {
        load: async () => (await fleet.repos.settings.get<NotifierMemory>(NOTIFY_MEMORY)) ?? null,
        save: (m) => fleet.repos.settings.set(NOTIFY_MEMORY, m),
      },
      storeDeliveryLog(fleet.repos.settings),
      { now: fleet.clock },
    );
    this.#stateFile = options.stateFile
      ? createStateFileWriter(options.stateFile, {
          clock: fleet.clock,
          onError: (m) => console.error(`codex-fleet: ${m}`),
        })
      : null;
    // Background start-up never throws into the constructor's caller; a failure is said, not swallowed.
    this.#ready = this.#init().catch((error) =>
      console.error(`codex-fleet: background tasks did not start: ${(error as Error).message}`),
    );
  }

  async #init(): Promise<void> {
    this.#useNotificationSettings(
      normalizeNotificationSettings(await this.fleet.repos.settings.get<NotificationSettings>(NOTIFY_SETTING)),
    );
    if (this.#options.background === false) return;
    // Digests and quiet hours hold alerts back: a minute's tick sends them once their time has come.
    this.#flushTimer = setInterval(() => {
      this.flushAlerts().catch((e) => this.#alertError(e));
    }, 60_000);
    this.#flushTimer.unref();
    // Loaded only for background work (the schedule brings croner and zod; CLI commands start none).
    const { fleetLeaderTasks } = await import('./background-tasks.ts');
    // Scheduled inspections run on one instance only: the holder of the leader lease.
    this.#leader = await startLeaderTasks(this.fleet, {
      tasks: fleetLeaderTasks(this.fleet, {
        onInspection: (id) => {
          this.#emit('inspection', id);
          this.#emit('actions');
          this.#emit('accounts');
        },
        collector: this.#collectorOpener(),
        onError: (task, error) => console.error(`codex-fleet: ${task}: ${error.message}`),
      }),
    });
  }

  #collectorOpener(): (() => Promise<RunningCollector>) | undefined {
    const collect = this.#options.collect;
    const monitor = this.#monitorService;
    if (!collect || !monitor) return undefined;
    return async () => {
      const server = await this.#servers.config(collect.server);
      if (!server)
        throw new Error(`--collect: no CPA server named "${collect.server}" (add it with codex-fleet cpa add)`);
      // Loaded only when a collector runs: it brings the Redis client, which no CLI command needs.
      const { startCollector } = await import('../monitor/run.ts');
      this.#collector = await startCollector({
        db: this.fleet.repos.db,
        monitor,
        dataDir: this.fleet.config.dataDir,
        target: { kind: 'cpa', server, via: collect.via },
        clock: this.fleet.clock,
      });
      return this.#collector;
    };
  }

  #openRequestOutcomes({ service: monitor, outcomes }: Monitoring): RequestOutcomesJoin {
    const actions = new ActionsRepo(this.fleet.repos.db, this.fleet.clock);
    return new outcomes.RequestOutcomesJoin({
      monitor,
      clock: this.fleet.clock,
      collectorServer: this.#options.collect?.server ?? null,
      accounts: () => this.#accounts(),
      probes: async (ids) =>
        outcomes.probeFacts(
          await this.#views(
            (await this.#accounts()).filter((a) => ids.includes(a.id)),
            false,
          ),
          (id) => actions.ownership(id),
        ),
      reprobe: (id) => this.refreshAccount(id),
      settings: this.fleet.repos.settings,
      onDisagreement: (account, d) => {
        if (!this.#alerting()) return;
        this.#notifier.announce([disagreementEvent(account, d)], this.fleet.clock()).catch((e) => this.#alertError(e));
      },
      onChange: (id) => this.#emit('accounts', id),
      // New counts for every account: rebuilt off the request path, announced once they are served.
      onSnapshot: () => {
        // Tracked, so close() waits for a rebuild in flight before it closes the store; none starts after.
        if (this.fleet.shutdown.stopping) return;
        void this.fleet.shutdown.track(() =>
          this.#listKey()
            .then((key) => this.#accountList.rebuild(key, () => this.#views()))
            .then(() => this.#announce('accounts'))
            .catch((e) => {
              if (!this.fleet.shutdown.stopping) console.error(`codex-fleet: account list: ${(e as Error).message}`);
            }),
        );
      },
      onError: (e) => console.error(`codex-fleet: request outcomes: ${e.message}`),
    });
  }

  #emit(type: FleetEventType, id?: string): void {
    // Whatever the core announces may show in the account list (states, refreshing flags, settings, actions).
    this.#accountList.invalidate();
    // Anything that changes accounts (a sweep, a flag, a disable, an auth file) may change the pool forecast.
    if (type === 'accounts') this.#poolForecast = null;
    this.#announce(type, id);
  }

  /** Tells the faces (SSE) without invalidating the account list (nor the pool forecast: request outcomes do not move it). */
  #announce(type: FleetEventType, id?: string): void {
    const event: FleetEvent = { type, at: new Date(this.fleet.clock()).toISOString(), ...(id ? { id } : {}) };
    this.#events.emit('event', event);
  }

  /** The resolved configuration this core runs with (resolved once, by the face that opened it). */
  get config(): FleetConfig {
    return this.fleet.config;
  }

  get clock(): Clock {
    return this.fleet.clock;
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  async #accounts(options: { tokens?: boolean } = {}): Promise<Account[]> {
    const { accounts } = await this.fleet.accounts(options);
    const only = this.#options.accountName;
    return only ? accounts.filter((a) => a.name === only || a.email === only || a.id === only) : accounts;
  }

  async #views(accounts?: Account[], withRequests = true): Promise<AccountView[]> {
    // The views show no token: every account read through the parsed-file cache (a stat per unchanged file).
    const list = accounts ?? (await this.#accounts({ tokens: false }));
    const evidence = await this.fleet.evidence(list);
    const requests = withRequests ? await this.requestOutcomes?.forAccounts(list) : undefined;
    const now = this.fleet.clock();
    return evidence.map((ev) => {
      const status = deriveStatus(ev, now);
      const basis = status.basis;
      const latest = ev.probe;
      return {
        id: ev.account.id,
        name: ev.account.name,
        email: ev.account.email,
        workspaceId: ev.account.accountId,
        plan: basis?.snapshot?.plan ?? ev.account.plan,
        format: ev.account.format,
        sourceKind: ev.account.sourceKind,
        disabled: ev.account.disabled,
        status: latest == null && basis == null ? 'unknown' : status.status,
        state: latest?.state ?? null,
        reason: latest?.reason ?? null,
        message: latest?.message ?? null,
        healthScore: latest == null && basis == null ? null : status.healthScore,
        windows: basis?.snapshot?.windows ?? [],
        credits: basis?.snapshot?.credits ?? null,
        source: latest?.source ?? null,
        lastCheckedAt: latest?.fetchedAt ?? null,
        stale: status.stale,
        capacityReturnsAt: status.resetsAt == null ? null : new Date(status.resetsAt).toISOString(),
        refreshing: this.#sweepInFlight || this.#refreshing.has(ev.account.id),
        planEndsAt: ev.plan?.endsAt ?? null,
        planWillRenew: ev.plan?.willRenew ?? null,
        ...(requests ? { requests: requests.get(ev.account.id) ?? null } : {}),
      };
    });
  }

  async listAccounts(): Promise<AccountView[]> {
    return (await this.accountList()).views;
  }

  /**
   * Every account's view, built once per change and shared by all readers until the next one; its
   * `body` is the serialized `{"accounts": […]}` with an ETag, made once per build. Treat it as read-only.
   */
  accountList(): Promise<AccountList> {
    return this.#listKey().then((key) => this.#accountList.get(key, () => this.#views()));
  }

  /** What the core's own events do not announce: another process's commit to the SQLite store, the auth dir's entries. */
  async #listKey(): Promise<string> {
    const db = this.fleet.repos.db;
    const [version, dir] = await Promise.all([
      db.dialect === 'sqlite'
        ? db.get<{ data_version: number }>('PRAGMA data_version').then((r) => r?.data_version ?? 0)
        : 0,
      fsPromises()
        .stat(this.fleet.config.accountDir, { bigint: true })
        .then(
          (st) => `${st.mtimeNs}:${st.ctimeNs}:${st.ino}`,
          () => 'none',
        ),
    ]);
    return `${version}:${dir}:${this.requestOutcomes ? 'join' : 'no-join'}`;
  }

  /** One account's view, from the same list (reading it costs what reading all of them does). */
  async getAccount(id: string): Promise<AccountView | null> {
    return (await this.listAccounts()).find((a) => a.id === id) ?? null;
  }

  async pool(): Promise<PoolSummary> {
    const views = await this.listAccounts();
    const counts = Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<HealthStatus, number>;
    for (const v of views) counts[v.status]++;
    const returns = views
      .map((v) => v.capacityReturnsAt)
      .filter((t): t is string => t != null)
      .sort();
    const sums: Partial<Record<WindowKind, { total: number; n: number }>> = {};
    for (const v of views) {
      for (const w of mainWindows({ windows: v.windows } as never)) {
        if (w.remainingPercent == null) continue;
        const s = sums[w.kind] ?? { total: 0, n: 0 };
        s.total += w.remainingPercent;
        s.n++;
        sums[w.kind] = s;
      }
    }
    const remainingPercent: PoolSummary['remainingPercent'] = {};
    for (const [kind, s] of Object.entries(sums))
      remainingPercent[kind as WindowKind] = Math.round((s.total / s.n) * 10) / 10;
    const last = await this.fleet.repos.settings.get<number>(LAST_REFRESH_SETTING);
    return {
      total: views.length,
      counts,
      nextCapacityAt: returns[0] ?? null,
      remainingPercent,
      lastRefreshAt: last ? new Date(last).toISOString() : null,
      refreshing: this.#sweepInFlight,
    };
  }

  // History series (issue 16): the pure rules live in inspect/history-series.ts and monitor/series.ts.
  async accountSeries(id: string, range: SeriesRange) {
    // The account's name is all the series needs: no view (that reads every account's latest state).
    const account = (await this.#accounts()).find((a) => a.id === id);
    if (!account) return null;
    const snapshots = this.fleet.repos.snapshots;
    const now = this.fleet.clock();
    const samples = await snapshots.sampled(range.from, range.to, range.stepMs, id);
    // The forecast reads the raw history since the weekly window's start, like `codex-fleet forecast`.
    const history = (await snapshots.history(id, now - 8 * 86_400_000))
      .filter((r) => !r.transient)
      .map((r) => probeFromSnapshot(r).snapshot)
      .filter((s) => s != null);
    const forecast = forecastAccount({ accountId: id, name: account.name, snapshots: history }, now);
    return accountSeries(id, samples, range, forecast);
  }

  async poolSeries(range: SeriesRange) {
    const rows = await this.fleet.repos.snapshots.pool.series(range.from, range.to, range.stepMs);
    return poolSeriesFromSummary(rows, range, await this.#poolForecastNow());
  }

  #poolForecast: { at: number; pool: Promise<PoolForecast> } | null = null;

  /**
   * The pool forecast the pool chart shows. Every account's history goes into it (~100 ms at 1,000
   * accounts), so it is computed once per change and shared: dropped on every 'accounts' event,
   * recomputed at most once a minute for its countdowns, and started as soon as a sweep ends so the
   * dashboard's next read finds it ready.
   */
  #poolForecastNow(): Promise<PoolForecast> {
    const now = this.fleet.clock();
    const memo = this.#poolForecast;
    if (memo && now >= memo.at && now - memo.at < 60_000) return memo.pool;
    const pool = this.fleet.forecast().then((f) => f.pool);
    const entry = { at: now, pool };
    this.#poolForecast = entry;
    pool.catch(() => {
      if (this.#poolForecast === entry) this.#poolForecast = null;
    });
    return pool;
  }

  async monitorSeries(filter: MonitorFilter, range: SeriesRange) {
    if (!this.#monitorService) return null;
    const { readMonitorSeries } = await import('../monitor/series.ts');
    return readMonitorSeries(this.#monitorService, filter, range);
  }

  async refreshAll(): Promise<RefreshOutcome> {
    const startedAt = new Date(this.fleet.clock()).toISOString();
    this.#sweepInFlight = true;
    this.#emit('refresh');
    try {
      const names = this.#options.accountName ? [this.#options.accountName] : undefined;
      const force = this.#options.refreshOnStart === true;
      this.#options.refreshOnStart = false;
      const result = await this.fleet.checkQuota({ names, force, tokenRefresh: 'allowed' });
      await this.fleet.repos.settings.set(LAST_REFRESH_SETTING, this.fleet.clock());
      await this.#afterSweep(result.checks.map((c) => c.account));
      return {
        startedAt,
        finishedAt: new Date(this.fleet.clock()).toISOString(),
        probed: result.checks.filter((c) => !c.fromCache).length,
        failed: result.checks.filter((c) => c.result.transient).length,
      };
    } finally {
      this.#sweepInFlight = false;
      this.#emit('accounts');
      this.#emit('refresh');
      // The sweep's snapshots have landed: the pool forecast is computed now, not on a reader's request.
      this.#poolForecastNow().catch(() => {});
    }
  }

  /** Alerts, the plan-term chore and the codex-quota state file follow every sweep. */
  async #afterSweep(accounts: Account[]): Promise<void> {
    const views = await this.#views(accounts);
    const now = this.fleet.clock();
    if (this.#alerting()) {
      const terms = await this.#planTerms.all();
      const runsOutAt = this.#notifySettings.rules.poolRunoutHorizonHours > 0 ? await this.#poolRunsOutAt() : null;
      await this.#notifier
        .observe(
          views.flatMap((v) => notifierView(v, terms.get(v.id), now) ?? []),
          now,
          { runsOutAt },
        )
        .catch((error) => this.#alertError(error));
    }
    if (this.#options.background !== false) this.#readPlanTermsInBackground(accounts);
    if (this.#stateFile) await this.#stateFile.write(await this.#stateRows(accounts));
  }

  /** Sends alerts held by a digest window or quiet hours whose time has come (a minute's tick does this too). */
  async flushAlerts(): Promise<void> {
    if (this.#alerting()) await this.#notifier.flush(this.fleet.clock());
  }

  #alerting(): boolean {
    return this.#notifySettings.webhooks.length > 0 || this.#alertChannels.length > 0;
  }

  #alertError(error: unknown): void {
    console.error(`codex-fleet: notifications: ${(error as Error).message}`);
  }

  #useNotificationSettings(settings: NotificationSettings): void {
    this.#notifySettings = settings;
    this.#alertChannels = extraChannels(settings);
  }

  /** The forecast's pool run-out (ms), or null when the pool does not run out at the current burn rate. */
  async #poolRunsOutAt(): Promise<number | null> {
    const pool = (await this.fleet.forecast()).pool;
    return pool.runsOutAt;
  }

  /** Plan terms change rarely: read in the background, one account at a time, at most every 12 h each. */
  #readPlanTermsInBackground(accounts: Account[]): void {
    if (this.#planTermChore) return;
    this.#planTermChore = this.refreshPlanTerms(accounts)
      .catch((error) => console.error(`codex-fleet: plan terms: ${(error as Error).message}`))
      .finally(() => {
        this.#planTermChore = null;
      });
  }

  /** Reads the plan term of each account that is due (all of them with `force`); returns how many were read. */
  async refreshPlanTerms(accounts?: Account[], options: { force?: boolean } = {}): Promise<number> {
    const list = accounts ?? (await this.#accounts());
    const read = await this.#planTerms.refresh(
      list.filter((a) => !a.disabled),
      (a) => this.fleet.upstreamTargetOf(a),
      {
        baseUrl: this.fleet.config.chatgptUrl,
        timeoutMs: this.fleet.config.timeoutMs,
        now: this.fleet.clock,
        force: options.force,
      },
    );
    if (read > 0) this.#emit('accounts');
    return read;
  }

  /** codex-quota's --state-file rows: the latest result, a transient failure keeping the last good windows. */
  async #stateRows(accounts: Account[]): Promise<QuotaRow[]> {
    const now = this.fleet.clock();
    const rows: QuotaRow[] = [];
    for (const ev of await this.fleet.evidence(accounts)) {
      if (ev.probe) rows.push(rowKeepingLastGood(ev.account, ev.probe, ev.lastGood ?? null, now));
    }
    return rows;
  }

  async refreshAccount(id: string): Promise<AccountView> {
    const account = (await this.#accounts()).find((a) => a.id === id);
    if (!account) throw new FleetError('not_found', `no account ${id}`);
    if (this.#refreshing.has(id)) {
      // Joined, not duplicated: wait for the one in flight.
      await new Promise<void>((resolve) => {
        const off = this.subscribe((e) => {
          if (e.type === 'accounts' && e.id === id) {
            off();
            resolve();
          }
        });
      });
    } else {
      this.#refreshing.add(id);
      this.#emit('accounts', id);
      try {
        await this.fleet.checkQuota({ names: [id], force: true, tokenRefresh: 'allowed' });
      } finally {
        this.#refreshing.delete(id);
        this.#emit('accounts', id);
      }
    }
    return (await this.getAccount(id))!;
  }

  /** A person's enable/disable, from either face: executed at the account's home (file or CPA), owned and audited. */
  async setAccountDisabled(id: string, disabled: boolean, actor: string): Promise<AccountView> {
    const account = await this.fleet.findAccount(id);
    if (!account) throw new FleetError('not_found', `no account ${id}`);
    const { actionContext, loadInspectionSettings } = await inspectionRun();
    const { thresholds } = await loadInspectionSettings(this.fleet);
    const done = await manualSetDisabled(actionContext(this.fleet, thresholds), account, disabled, personActor(actor));
    if (done.status === 'failed') throw new FleetError('conflict', done.result ?? 'the change failed');
    this.#emit('accounts', id);
    this.#emit('audit');
    return (await this.getAccount(id))!;
  }

  /** Accounts from every source with the problems met while reading them (the CLI's list, show, quota). */
  loadAccounts(): Promise<AccountLoadResult> {
    return this.fleet.accounts();
  }

  /** Remembers auth files outside the account directory (`accounts import`); the files stay where they are. */
  async importAccounts(path: string) {
    const load = await readImportPath(path);
    await this.fleet.repos.accounts.upsertMany(load.accounts);
    this.#emit('accounts');
    return load;
  }

  /** A new auth file in the account directory from token JSON (`accounts add`). */
  async addAccount(text: string, name?: string): Promise<Account> {
    const account = await addAccountFile(this.fleet.config.accountDir, text, name);
    await this.fleet.repos.accounts.upsert(account);
    this.#emit('accounts');
    this.#emit('auth-files');
    return account;
  }

  /** Forgets an account; with deleteFile its file goes to `.deleted/` (the dashboard's delete, undoable). */
  async removeAccount(account: Account, options: { deleteFile?: boolean } = {}): Promise<void> {
    if (options.deleteFile) {
      const problem = await deleteAccountFile(account, this.fleet.clock());
      if (problem) throw new FleetError('conflict', problem.message);
    }
    await this.fleet.repos.accounts.remove(account.id);
    this.#emit('accounts');
    this.#emit('auth-files');
  }

  /** The stored token bookkeeping (refresh failures, last error) of every account. */
  tokenStates() {
    return this.fleet.repos.accounts.listTokenStates();
  }

  /** A quota sweep (codex-quota's `quota`): the face's --probe and the concurrency setting apply. */
  checkQuota(options: QuotaCheckOptions): Promise<QuotaCheckResult> {
    return this.fleet.checkQuota(options);
  }

  /** Refreshes one account's token pair now (written back to its file before use). */
  refreshToken(account: Account) {
    return this.fleet.tokenManager('allowed').refreshNow(account);
  }

  healthReport(options: Parameters<Fleet['healthReport']>[0] = {}) {
    const join = this.requestOutcomes;
    return this.fleet.healthReport(join ? { requests: (list) => join.forAccounts(list), ...options } : options);
  }

  /** The forecast; `live` takes one more sample of every account first. */
  async forecast(options: { live?: boolean; onProgress?: QuotaCheckOptions['onProgress'] } = {}) {
    if (options.live)
      await this.fleet.checkQuota({ force: true, tokenRefresh: 'allowed', onProgress: options.onProgress });
    return this.fleet.forecast();
  }

  /** Joins a run in progress: each run sends one call per CPA key, so clicks must not multiply them. */
  doctor(options: { pollIntervalSeconds?: number } = {}): Promise<DoctorReport> {
    // Loaded on demand: doctor brings the collector's queue readers, which a report never needs.
    this.#doctorRun ??= import('./doctor-run.ts')
      .then(({ runDoctor }) => runDoctor(this.fleet, options))
      .finally(() => {
        this.#doctorRun = null;
      });
    return this.#doctorRun;
  }

  /** One inspection run as a person asked for it (`inspect` or the dashboard's button). */
  async inspect(
    actor: string,
    options: Pick<InspectionOptions, 'source' | 'apply' | 'onProgress'> = {},
  ): Promise<InspectionOutcome> {
    const join = this.requestOutcomes;
    const outcomes = this.#outcomes;
    const { runInspection } = await inspectionRun();
    const outcome = await runInspection(this.fleet, {
      ...options,
      trigger: 'manual',
      actor: personActor(actor),
      requests:
        join && outcomes ? async (list) => outcomes.inspectionEvidence(await join.forAccounts(list)) : undefined,
    });
    this.#emit('inspection', outcome.run.id);
    this.#emit('actions');
    this.#emit('accounts');
    return outcome;
  }

  async runInspection(actor: string): Promise<InspectionRunView> {
    const outcome = await this.inspect(actor);
    const { holder: _, ...run } = outcome.run;
    return { ...run, results: outcome.results };
  }

  async listInspections(limit: number): Promise<InspectionRunView[]> {
    const runs = await new RunsRepo(this.fleet.repos.db, this.fleet.clock).list(limit);
    return runs.map(({ holder: _, ...run }) => run);
  }

  async getInspection(id: string): Promise<InspectionRunView | null> {
    const repo = new RunsRepo(this.fleet.repos.db, this.fleet.clock);
    const run = await repo.get(id);
    if (!run) return null;
    const { holder: _, ...rest } = run;
    return { ...rest, results: await repo.results(id) };
  }

  async listActions(status?: QueuedAction['status']): Promise<QueuedAction[]> {
    const { actionContext } = await inspectionRun();
    return actionContext(this.fleet).actions.list(status);
  }

  async decideAction(id: string, decision: 'approve' | 'reject', actor: string): Promise<QueuedAction> {
    const { actionContext, loadInspectionSettings } = await inspectionRun();
    const { thresholds } = await loadInspectionSettings(this.fleet);
    const ctx = actionContext(this.fleet, thresholds);
    const outcome = await decideQueuedAction(ctx, id, decision, personActor(actor), (accountId) =>
      this.fleet.findAccount(accountId),
    );
    if (!outcome.ok) throw new FleetError(outcome.code, outcome.message);
    this.#emit('actions', id);
    this.#emit('audit');
    this.#emit('accounts', outcome.action.accountId);
    return outcome.action;
  }

  async listAudit(limit: number) {
    const { actionContext } = await inspectionRun();
    return actionContext(this.fleet).actions.auditLog(limit);
  }

  async getSchedule() {
    const { readSchedule } = await import('./inspection-scheduler.ts');
    const { nextSlot } = await import('../inspect/schedule.ts');
    const schedule = await readSchedule(this.fleet);
    return { ...schedule, nextRunAt: nextSlot(schedule, this.fleet.clock()) };
  }

  async setSchedule(schedule: Schedule) {
    const { saveSchedule } = await import('./inspection-scheduler.ts');
    try {
      await saveSchedule(this.fleet, schedule);
    } catch (error) {
      throw new FleetError('invalid', (error as Error).message);
    }
    this.#emit('schedule');
    return this.getSchedule();
  }

  async getSettings(): Promise<SettingsView> {
    const { thresholds, policy } = await readInspectionSettings(this.fleet.repos.settings);
    return {
      thresholds,
      policy,
      notifications: publicNotificationSettings(this.#notifySettings),
      probeConcurrency: (await readProbeConcurrency(this.fleet.repos.settings)) ?? this.fleet.config.concurrency,
    };
  }

  /** A settings change, validated against the one definition (core/settings.ts) whatever face sent it. */
  async setSettings(change: unknown): Promise<SettingsView> {
    const { parseSettingsChange } = await import('./settings-schema.ts');
    const parsed = parseSettingsChange(change);
    if (!parsed.ok) throw new FleetError('invalid', `invalid settings: ${parsed.message}`);
    const input = parsed.value;
    await writeInspectionSettings(this.fleet.repos.settings, input);
    if (input.notifications) {
      this.#useNotificationSettings(mergeNotificationSettings(this.#notifySettings, input.notifications));
      await this.fleet.repos.settings.set(NOTIFY_SETTING, this.#notifySettings);
    }
    this.#emit('settings');
    return this.getSettings();
  }

  listCpaServers() {
    return this.#servers.list();
  }

  async saveCpaServer(input: CpaServerInput) {
    const saved = await this.#servers.upsert(input);
    if (!saved.ok) throw new FleetError('invalid', saved.error.message);
    this.fleet.cpa.invalidate(saved.value.name);
    this.#emit('accounts');
    this.#emit('settings');
    return saved.value;
  }

  /**
   * Lists and probes the accounts of one CPA server (after `cpa add`), so every view shows them with
   * their state at once, without waiting for an inspection. Cached results within the TTL are reused.
   */
  async sweepCpaServer(name: string, onProgress?: QuotaCheckOptions['onProgress']): Promise<QuotaCheckResult> {
    this.fleet.cpa.invalidate(name);
    const result = await this.fleet.checkQuota({
      tokenRefresh: 'never',
      filter: (a) => isCpaAccount(a) && a.cpa.server === name,
      onProgress,
    });
    this.#emit('accounts');
    return result;
  }

  async removeCpaServer(name: string): Promise<void> {
    if (!(await this.#servers.remove(name))) throw new FleetError('not_found', `no CPA server ${name}`);
    this.#emit('settings');
  }

  // Auth files: the configured account directory, in any §4 format. Names are validated so a form
  // can never reach outside the directory.
  #authPath(name: string): string {
    const file = name.endsWith('.json') ? name : `${name}.json`;
    if (!AUTH_FILE_NAME.test(file)) throw new FleetError('invalid', `an auth file name is ${AUTH_FILE_NAME_RULE}`);
    return join(this.fleet.config.accountDir, file);
  }

  async #authFileView(path: string): Promise<AuthFileView | null> {
    const parsed = await readAuthFile(path, 'auth-dir');
    if (isLoadError(parsed)) return null;
    const account = parsed.accounts[0];
    if (!account) return null;
    const info = await fsPromises()
      .stat(path)
      .catch(() => null);
    return {
      name: basename(path).replace(/\.json$/i, ''),
      format: parsed.format.format,
      email: account.email,
      accountId: account.accountId,
      disabled: account.disabled,
      accessToken: maskSecret(account.credentials.accessToken),
      refreshToken: maskSecret(account.credentials.refreshToken),
      idToken: maskSecret(account.credentials.idToken),
      modifiedAt: info ? info.mtime.toISOString() : null,
    };
  }

  async listAuthFiles(): Promise<AuthFileView[]> {
    const dir = this.fleet.config.accountDir;
    const names = await fsPromises()
      .readdir(dir)
      .catch(() => [] as string[]);
    const views = await Promise.all(
      names
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort()
        .map((n) => this.#authFileView(join(dir, n))),
    );
    return views.filter((v): v is AuthFileView => v != null);
  }

  async getAuthFile(name: string): Promise<AuthFileView | null> {
    const path = this.#authPath(name);
    await this.#refuseMultiAccount(path);
    return this.#authFileView(path);
  }

  /** GET, save and delete by name agree: a codex-multi-auth file exists, and none of them touch it (409). */
  async #refuseMultiAccount(path: string): Promise<void> {
    const parsed = await readAuthFile(path, 'auth-dir');
    if (!isLoadError(parsed) && parsed.format.format === 'multi-auth') {
      throw new FleetError('conflict', multiAccountFileRefusal(basename(path), parsed.accounts.length));
    }
  }

  async saveAuthFile(input: AuthFileInput, mode: 'create' | 'update'): Promise<AuthFileView> {
    const path = this.#authPath(input.name);
    const exists = await fsPromises()
      .stat(path)
      .then(
        () => true,
        () => false,
      );
    if (mode === 'create' && exists) throw new FleetError('conflict', `${basename(path)} exists already`);
    if (mode === 'update' && !exists) throw new FleetError('not_found', `no auth file ${basename(path)}`);
    let doc: Record<string, unknown>;
    let format: AuthFileFormat;
    let style = NEW_FILE_STYLE;
    if (exists) {
      // readAuthFile refuses FIFOs and oversized files; a plain readFile here would hang on a FIFO.
      const parsed = await readAuthFile(path, 'auth-dir');
      if (isLoadError(parsed)) throw new FleetError('invalid', parsed.message);
      if (parsed.format.format === 'multi-auth') {
        throw new FleetError('conflict', multiAccountFileRefusal(basename(path), parsed.accounts.length));
      }
      style = parsed.style;
      format = parsed.format.format;
      doc = parsed.doc as Record<string, unknown>;
    } else {
      format = input.format ?? 'cpa';
      doc =
        format === 'codex-cli'
          ? { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: {} }
          : format === 'cpa'
            ? { type: 'codex' }
            : {};
      if (format === 'multi-auth')
        throw new FleetError(
          'invalid',
          'multi-auth files hold many accounts: import them with `codex-fleet accounts import`',
        );
    }
    applyAuthFields(doc, format, input);
    if (!hasAccessToken(doc, format)) throw new FleetError('invalid', 'an auth file needs an access token');
    await fsPromises().mkdir(this.fleet.config.accountDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, stringifyJson(doc, style));
    this.#emit('auth-files');
    this.#emit('accounts');
    return (await this.#authFileView(path))!;
  }

  async deleteAuthFile(name: string): Promise<void> {
    const path = this.#authPath(name);
    await this.#refuseMultiAccount(path);
    try {
      await moveToTrash(path, this.fleet.clock());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new FleetError('not_found', `no auth file ${basename(path)}`);
      throw error;
    }
    this.#emit('auth-files');
    this.#emit('accounts');
  }

  async metrics(options: { includeEmails?: boolean } = {}): Promise<{ contentType: string; body: string }> {
    const stats = this.#collector?.collector.stats;
    const collectors = stats
      ? [{ name: stats.queue, lagSeconds: stats.lagMs == null ? null : stats.lagMs / 1000, errorsTotal: stats.errors }]
      : [];
    const join = this.requestOutcomes;
    const outcomes = this.#outcomes;
    const out = await this.fleet.metrics({
      collectors,
      includeEmails: options.includeEmails,
      requests: join && outcomes ? async (list) => outcomes.lastHourCounts(await join.forAccounts(list)) : undefined,
    });
    return { contentType: out.contentType, body: out.text };
  }

  /**
   * Begins shutting down: no new sweep, probe or token request starts; a token request already sent
   * may finish for graceMs, then it is cut. close() then waits for what runs and closes the store.
   */
  beginShutdown(graceMs = DEFAULT_SHUTDOWN_GRACE_MS): void {
    this.fleet.shutdown.begin(graceMs);
  }

  async close(): Promise<void> {
    this.beginShutdown();
    await this.#ready;
    await this.requestOutcomes?.close();
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    await this.#planTermChore;
    await this.#leader?.stop();
    await this.fleet.close();
  }
}

/** Who acts, as the audit log and disable ownership record it: a person, whichever face they used. */
function personActor(actor: string): string {
  return actor.startsWith('person:') ? actor : `person:${actor}`;
}

/** Changes only the fields the input names; a token omitted keeps the stored value. */
function applyAuthFields(doc: Record<string, unknown>, format: AuthFileFormat, input: AuthFileInput): void {
  if (format === 'codex-cli') {
    const tokens = (doc.tokens as Record<string, unknown> | null) ?? {};
    if (input.accessToken) tokens.access_token = input.accessToken;
    if (input.refreshToken) tokens.refresh_token = input.refreshToken;
    if (input.idToken) tokens.id_token = input.idToken;
    if (input.accountId !== undefined) tokens.account_id = input.accountId;
    doc.tokens = tokens;
    return;
  }
  if (input.accessToken) doc.access_token = input.accessToken;
  if (input.accountId !== undefined) doc.account_id = input.accountId;
  if (format === 'cpa') {
    if (input.refreshToken) doc.refresh_token = input.refreshToken;
    if (input.idToken) doc.id_token = input.idToken;
    if (input.email !== undefined) doc.email = input.email;
    if (input.disabled !== undefined) doc.disabled = input.disabled;
  } else if (input.disabled !== undefined && (input.disabled || 'disabled' in doc)) {
    doc.disabled = input.disabled;
  }
}

function hasAccessToken(doc: Record<string, unknown>, format: AuthFileFormat): boolean {
  const token =
    format === 'codex-cli' ? (doc.tokens as Record<string, unknown> | null)?.access_token : doc.access_token;
  return typeof token === 'string' && token.length > 0;
}
