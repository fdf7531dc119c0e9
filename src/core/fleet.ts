// The programmatic core: the CLI and the HTTP server are two thin callers of this. It ties the account
// sources, the store, the token manager and the quota probes together; decisions stay in pure modules.

import { join } from 'node:path';
import { readAuthFile } from '../accounts/auth-file.ts';
import { isLoadError } from '../accounts/formats/index.ts';
import { ParsedFileCache } from '../accounts/parsed-cache.ts';
import { type TokenEvent, TokenManager } from '../accounts/refresh.ts';
import { writeAccountTokens } from '../accounts/write-back.ts';
import { CPA_TOKEN_PLACEHOLDER, cpaFetch } from '../cpa/probe.ts';
import { CpaServers } from '../cpa/servers.ts';
import type { Account } from '../domain/account.ts';
import type { ProbeReason, ProbeResult, QuotaSnapshot } from '../domain/quota.ts';
import type { HealthReport } from '../domain/report.ts';
import { type Clock, systemClock } from '../domain/time.ts';
import { nextFlagState } from '../inspect/flags.ts';
import { buildForecast, type Forecast, type SnapshotHistory } from '../inspect/forecast.ts';
import type { CollectorHealth, RequestCounts } from '../inspect/metrics.ts';
import { buildHealthReport } from '../inspect/report.ts';
import { type AccountEvidence, deriveStatus, tokenStateOf } from '../inspect/status.ts';
import { AuthFileCacheRepo } from '../store/auth-file-cache-repo.ts';
import { createRepos, openStore, type Repos, type StoredSnapshot } from '../store/index.ts';
import { latestSnapshots } from '../store/latest-snapshots.ts';
import { probeFromSnapshot } from '../store/snapshots-repo.ts';
import { asCachedResult, cacheDecision, DEFAULT_CACHE_TTL_MS } from '../upstream/cache.ts';
import type { RefreshFailure } from '../upstream/classify.ts';
import type { CodexCliProbeOutcome } from '../upstream/codex-cli-probe.ts';
import type { HeaderTarget } from '../upstream/headers.ts';
import type { FetchLike } from '../upstream/http.ts';
import { type ProbeOptions, type ProbeOutcome, probeAccount } from '../upstream/probe.ts';
import { probeAll, type SweepProgress, type SweepTarget } from '../upstream/probe-runner.ts';
import type { UsagePathMemory } from '../upstream/usage-paths.ts';
import { type AccountLoadResult, loadAccounts } from './account-registry.ts';
import { PlanTerms } from './alerting.ts';
import type { FleetConfig } from './config.ts';
import { CpaAccounts, isCpaAccount } from './cpa-accounts.ts';
import { readProbeConcurrency, SETTINGS } from './settings.ts';
import { abortableSleep, Shutdown, ShutdownError } from './shutdown.ts';

export const PROBE_MODES = ['http', 'codex-cli', 'auto'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];
/** In auto mode, this many Cloudflare answers in one sweep switch the rest of it to the Codex CLI. */
export const AUTO_CLI_AFTER_CLOUDFLARE = 3;

const USAGE_PATHS_SETTING = 'upstream.usagePaths';
const AUTH_FILE_CACHE_SCOPE = 'files';
/** The dashboard's "Probe concurrency" setting: every sweep reads it unless a face passed --concurrency. */
export const CONCURRENCY_SETTING = SETTINGS.probeConcurrency.key;

/** What a face chose explicitly (CLI flags, serve flags): it wins over the stored setting and the config. */
export interface ProbeDefaults {
  probe?: ProbeMode;
  concurrency?: number;
}

export interface QuotaCheckOptions {
  /** Only these accounts (by name or id). */
  names?: readonly string[];
  /** Only the accounts this accepts (an inspection's source: local files, one CPA server). */
  filter?: (account: Account) => boolean;
  /** Skip the cache and ask upstream (codex-quota's --refresh). */
  force?: boolean;
  /** Read-only commands pass 'never': they can never rotate a refresh token. */
  tokenRefresh: 'allowed' | 'never';
  /** Probe through POST /codex/responses with this model instead of the usage endpoint. */
  model?: string;
  probe?: ProbeMode;
  /** Parallel probes for this sweep; default: the face's choice, else the stored setting, else the config. */
  concurrency?: number;
  captureRaw?: boolean;
  cacheTtlMs?: number;
  onProgress?: (progress: SweepProgress) => void;
}

export interface QuotaCheck {
  account: Account;
  result: ProbeOutcome;
  /** The last conclusive result, when this one was transient: its windows stay visible, marked stale. */
  lastGood: ProbeResult | null;
  fromCache: boolean;
}

export interface QuotaCheckResult extends AccountLoadResult {
  checks: QuotaCheck[];
}

/** How long close() lets in-flight work finish before cutting it (inside a container's 10 s stop). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 6_000;

export class Fleet {
  readonly config: FleetConfig;
  readonly repos: Repos;
  readonly clock: Clock;
  #pathMemory: UsagePathMemory | null = null;
  #sweep: Promise<QuotaCheckResult> | null = null;
  #defaults: ProbeDefaults = {};
  /** The configured CPA servers, and the accounts on them (first-class: listed, probed, acted on). */
  readonly cpaServers: CpaServers;
  readonly cpa: CpaAccounts;
  /** Stop (no new probe or token request), then cut at the deadline; close() waits for every sweep. */
  readonly shutdown = new Shutdown();

  constructor(config: FleetConfig, repos: Repos, clock: Clock = systemClock) {
    this.config = config;
    this.repos = repos;
    this.clock = clock;
    this.cpaServers = new CpaServers(repos.settings);
    this.cpa = new CpaAccounts(this.cpaServers, repos.settings, clock);
  }

  static async open(config: FleetConfig, clock: Clock = systemClock): Promise<Fleet> {
    const db = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl ?? undefined });
    return new Fleet(config, createRepos(db, clock), clock);
  }

  /**
   * Stops new work, lets a token request already sent finish (up to graceMs, then cuts it), waits for
   * every sweep to settle, and only then closes the store: nothing uses it after close.
   */
  async close(graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> {
    this.shutdown.begin(graceMs);
    await this.shutdown.settle();
    await this.repos.db.close();
  }

  /** A face's explicit --probe / --concurrency: every sweep this process runs (scheduled ones too) uses them. */
  setProbeDefaults(defaults: ProbeDefaults): void {
    this.#defaults = { ...defaults };
  }

  get probeMode(): ProbeMode {
    return this.#defaults.probe ?? 'http';
  }

  /** One answer for every sweep, local or through CPA: explicit choice, else the stored setting, else the config. */
  async probeConcurrency(explicit?: number): Promise<number> {
    return (
      explicit ??
      this.#defaults.concurrency ??
      (await readProbeConcurrency(this.repos.settings)) ??
      this.config.concurrency
    );
  }

  /**
   * Reads every account source (auth files, imported files, every configured CPA server) and records
   * what it found; one bad file or unreachable server never hides the others.
   * `tokens: false` is for callers that only read state (report, metrics, forecast): unchanged files then
   * come from the parsed-account cache, one store row instead of every file, with masked tokens.
   */
  async accounts(options: { tokens?: boolean } = {}): Promise<AccountLoadResult> {
    const stored = await this.repos.accounts.storedPaths();
    let result: AccountLoadResult;
    if (options.tokens === false) {
      const cacheRepo = new AuthFileCacheRepo(this.repos.db, this.clock);
      const cache = new ParsedFileCache(await cacheRepo.get(AUTH_FILE_CACHE_SCOPE));
      result = await loadAccounts(this.config, stored, this.clock(), { loadFile: cache.loadFile, tokensMasked: true });
      if (cache.changed) await cacheRepo.set(AUTH_FILE_CACHE_SCOPE, cache);
    } else {
      result = await loadAccounts(this.config, stored, this.clock());
    }
    // History stored under a bare workspace id (before seats) moves to its seat once the seat is known.
    await this.repos.seats.attribute(result.accounts);
    const cpa = await this.cpa.list();
    const seen = new Set(result.accounts.map((a) => a.id));
    result.accounts.push(...cpa.accounts.filter((a) => !seen.has(a.id)));
    for (const problem of cpa.problems) {
      result.errors.push({ path: problem.split(':')[0], index: null, format: 'cpa', message: problem });
    }
    // Only what changed is written: a read-only report over 1000 accounts should not rewrite 1000 rows,
    // nor compare them when neither they nor the accounts table changed since the last load.
    await this.repos.accounts.writeChanged(result.accounts);
    return result;
  }

  /**
   * What the store knows about each account: latest attempt, latest conclusive result, token state
   * and flag. Reports, metrics, inspection and the dashboard all read this; none of it touches the network.
   */
  /**
   * How to ask the ChatGPT backend about an account without rotating its tokens: its own access token
   * while it is valid, or through CPA's api-call (CPA puts the token in). null when neither is possible.
   */
  async upstreamTargetOf(account: Account): Promise<{ target: HeaderTarget; fetch?: FetchLike } | null> {
    if (isCpaAccount(account)) {
      const authIndex = account.cpa.authIndex;
      const client = await this.cpaServers.client(account.cpa.server);
      if (!client.ok || !authIndex) return null;
      return {
        target: { accessToken: CPA_TOKEN_PLACEHOLDER, accountId: account.accountId },
        fetch: cpaFetch(client.value, authIndex),
      };
    }
    const { accessToken, expiresAt } = account.credentials;
    if (!accessToken || (expiresAt != null && expiresAt <= this.clock())) return null;
    return { target: { accessToken, accountId: account.accountId } };
  }

  async evidence(accounts?: readonly Account[]): Promise<AccountEvidence[]> {
    const list = accounts ?? (await this.accounts({ tokens: false })).accounts;
    const [latest, tokenStates, flags, planTerms] = await Promise.all([
      latestSnapshots(this.repos.db, this.repos.snapshots),
      this.repos.accounts.listTokenStates(),
      this.repos.flags.list(),
      new PlanTerms(this.repos.settings).all(),
    ]);
    // Attempt and conclusive are usually one row: converted once (the cached report reads every account).
    const probes = new Map<StoredSnapshot, ProbeResult>();
    const probeOf = (s: StoredSnapshot) => probes.get(s) ?? probes.set(s, probeFromSnapshot(s)).get(s)!;
    const attemptBy = new Map(latest.attempts.map((s) => [s.accountId, probeOf(s)]));
    const goodBy = new Map(latest.conclusive.filter((s) => !s.transient).map((s) => [s.accountId, probeOf(s)]));
    const tokenBy = new Map(tokenStates.map((t) => [t.accountId, t]));
    const flagBy = new Map(flags.filter((f) => f.clearedAt == null).map((f) => [f.accountId, f]));
    return list.map((account) => {
      const stored = tokenBy.get(account.id);
      const flag = flagBy.get(account.id);
      const fromFile = tokenStateOf(account, stored?.refreshFailures ?? 0);
      return {
        account,
        probe: attemptBy.get(account.id) ?? null,
        lastGood: goodBy.get(account.id) ?? null,
        plan: planTerms.get(account.id) ?? null,
        token: { ...fromFile, lastRefreshAt: fromFile.lastRefreshAt ?? stored?.lastRefresh ?? null },
        flag: flag
          ? {
              flaggedAt: flag.flaggedAt,
              flaggedReason: flag.flaggedReason,
              lastVerified: flag.lastVerified,
              verificationCount: flag.verificationCount,
            }
          : null,
      };
    });
  }

  /** The `codex auth report` HealthReport, from the store (default) or after a live probe of every account. */
  async healthReport(
    options: {
      live?: boolean;
      model?: string;
      onProgress?: QuotaCheckOptions['onProgress'];
      /** Issue 20: request outcomes per account id, put under each account's extensions. */
      requests?: (accounts: Account[]) => Promise<ReadonlyMap<string, object>>;
    } = {},
  ): Promise<HealthReport> {
    let accounts: Account[];
    if (options.live) {
      const checked = await this.checkQuota({
        force: true,
        tokenRefresh: 'allowed',
        model: options.model,
        onProgress: options.onProgress,
      });
      accounts = checked.checks.map((c) => c.account);
    } else {
      accounts = (await this.accounts({ tokens: false })).accounts;
    }
    const evidence = await this.evidence(accounts);
    const current = await this.#currentCodexAccountId();
    const requests = await options.requests?.(accounts);
    return buildHealthReport(
      { accounts: evidence, currentAccountId: current, requests },
      { mode: options.live ? 'live' : 'default', model: options.live ? options.model : undefined, now: this.clock() },
    );
  }

  /** Burn-rate forecast from the stored snapshot history (the last 8 days covers a weekly window). */
  async forecast(options: { historyMs?: number } = {}): Promise<Forecast> {
    const evidence = await this.evidence();
    const now = this.clock();
    const byAccount = await this.#forecastHistories(options.historyMs ?? 8 * 24 * 3600_000, now);
    const histories: SnapshotHistory[] = [];
    for (const ev of evidence) {
      const status = deriveStatus(ev, now);
      histories.push({
        accountId: ev.account.id,
        name: ev.account.name,
        usable: status.status !== 'disabled' && status.status !== 'error',
        windowless: status.windowless,
        snapshots: byAccount.get(ev.account.id) ?? [],
      });
    }
    return buildForecast(histories, { now });
  }

  #history: { historyMs: number; lastId: number; byAccount: Map<string, readonly QuotaSnapshot[]> } | null = null;
  #historyTurn: Promise<unknown> = Promise.resolve();

  /**
   * Each account's conclusive snapshots over the forecast's history, kept in memory: at 1,000 accounts
   * that is ~200k rows, so after the first read only the snapshots stored since (a sweep's 1,000) are
   * read and appended, and those older than the history are dropped. Callers take turns, so a snapshot
   * is appended once; lists are replaced, never changed, so a list handed out stays as it was.
   */
  #forecastHistories(historyMs: number, now: number): Promise<ReadonlyMap<string, readonly QuotaSnapshot[]>> {
    const turn = this.#historyTurn.then(() => this.#updateHistories(historyMs, now));
    this.#historyTurn = turn.catch(() => {});
    return turn;
  }

  async #updateHistories(historyMs: number, now: number): Promise<ReadonlyMap<string, readonly QuotaSnapshot[]>> {
    const snapshots = this.repos.snapshots;
    const lastId = await snapshots.lastId();
    let h = this.#history;
    // A different history length, or a store whose ids went back (replaced): read it all again.
    if (!h || h.historyMs !== historyMs || lastId < h.lastId) h = { historyMs, lastId: 0, byAccount: new Map() };
    this.#history = h;
    const since = now - historyMs;
    if (lastId > h.lastId) {
      const added = new Map<string, QuotaSnapshot[]>();
      let maxId = h.lastId;
      for (const row of await snapshots.storedAfter(h.lastId, since)) {
        maxId = Math.max(maxId, row.id);
        const snap = probeFromSnapshot(row).snapshot;
        if (!snap) continue;
        const list = added.get(row.accountId) ?? [...(h.byAccount.get(row.accountId) ?? [])];
        list.push(snap);
        added.set(row.accountId, list);
      }
      for (const [id, list] of added) {
        // Rows arrive by time; one stored late with an older time (an import) puts its list back in order.
        if (list.some((x, i) => i > 0 && x.fetchedAt < list[i - 1].fetchedAt))
          list.sort((x, y) => Date.parse(x.fetchedAt) - Date.parse(y.fetchedAt));
        h.byAccount.set(id, list);
      }
      h.lastId = Math.max(lastId, maxId);
    }
    for (const [id, list] of h.byAccount) {
      if (!list.length || Date.parse(list[0].fetchedAt) >= since) continue;
      const keep = list.filter((x) => Date.parse(x.fetchedAt) >= since);
      if (keep.length) h.byAccount.set(id, keep);
      else h.byAccount.delete(id);
    }
    return h.byAccount;
  }

  /** Prometheus exposition of the stored state; collectors add their lag and error counters. */
  async metrics(
    options: {
      includeEmails?: boolean;
      collectors?: CollectorHealth[];
      requests?: (accounts: Account[]) => Promise<ReadonlyMap<string, RequestCounts>>;
    } = {},
  ) {
    const evidence = await this.evidence();
    const requests = await options.requests?.(evidence.map((e) => e.account));
    const probeErrors: Partial<Record<ProbeReason, number>> = {};
    for (const ev of evidence) {
      const p = ev.probe;
      if (p && p.state !== 'ok' && p.state !== 'exhausted') probeErrors[p.reason] = (probeErrors[p.reason] ?? 0) + 1;
    }
    // prom-client loads only for metrics.
    const { buildMetrics } = await import('../inspect/metrics.ts');
    return buildMetrics(
      { accounts: evidence, probeErrors, collectors: options.collectors, requests },
      { now: this.clock(), includeEmails: options.includeEmails },
    );
  }

  /** The account the Codex CLI on this machine uses now, if its auth.json is among the sources. */
  async #currentCodexAccountId(): Promise<string | null> {
    if (!this.config.codexHome) return null;
    // The seat's id (workspace + user): the workspace alone names every seat of a Team workspace.
    const read = await readAuthFile(join(this.config.codexHome, 'auth.json'), 'codex-home').catch(() => null);
    return read && !isLoadError(read) ? (read.accounts[0]?.id ?? null) : null;
  }

  /**
   * An account by id: from its source when it is local, else from the store (CPA accounts live on their
   * server; the executors need only the stored identity, never the tokens).
   */
  async findAccount(id: string): Promise<Account | null> {
    const local = (await this.accounts()).accounts.find((a) => a.id === id);
    if (local) return local;
    const stored = await this.repos.accounts.get(id);
    if (!stored) return null;
    const { createdAt: _c, updatedAt: _u, ...identity } = stored;
    return {
      ...identity,
      credentials: {
        accessToken: null,
        refreshToken: null,
        idToken: null,
        accountId: stored.accountId,
        expiresAt: null,
        lastRefresh: null,
      },
    };
  }

  tokenManager(refresh: 'allowed' | 'never'): TokenManager {
    return new TokenManager({
      refresh,
      authUrl: this.config.authUrl,
      timeoutMs: this.config.timeoutMs,
      clock: this.clock,
      stop: this.shutdown.stop,
      cutoff: this.shutdown.cutoff,
      onTokenEvent: (event) => this.#recordTokenEvent(event),
    });
  }

  /**
   * A full sweep joins one already in flight (same process) instead of probing twice: two
   * overlapping sweeps would double the Cloudflare budget and race each other's token refreshes.
   */
  checkQuota(options: QuotaCheckOptions): Promise<QuotaCheckResult> {
    const isFullSweep = !options.names?.length && !options.captureRaw && !options.model;
    if (isFullSweep && this.#sweep) return this.#sweep;
    let run: Promise<QuotaCheckResult>;
    try {
      run = this.shutdown.track(() => this.#checkQuota(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (isFullSweep) {
      this.#sweep = run;
      // The caller gets run's failure; this bookkeeping branch must not become an unhandled rejection
      // (a sweep cut short by close() on shutdown crashed the process with "database is closed").
      run
        .finally(() => {
          if (this.#sweep === run) this.#sweep = null;
        })
        .catch(() => {});
    }
    return run;
  }

  async #checkQuota(options: QuotaCheckOptions): Promise<QuotaCheckResult> {
    const loaded = await this.accounts();
    const wanted = selectAccounts(loaded.accounts, options.names).filter((a) => options.filter?.(a) ?? true);
    const now = this.clock();
    const ttl = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    const checks: QuotaCheck[] = new Array(wanted.length);
    const toProbe: Array<{ index: number; account: Account }> = [];

    // One query for every account's last conclusive result (the cache, and the windows kept on a transient failure).
    const latestById = new Map(
      (await this.repos.snapshots.latestPerAccount()).map((s) => [s.accountId, probeFromSnapshot(s)]),
    );
    for (const [index, account] of wanted.entries()) {
      const last = latestById.get(account.id) ?? null;
      if (!options.force && !options.captureRaw && !options.model && cacheDecision(last, now, ttl).useCache) {
        checks[index] = { account, result: asCachedResult(last!, now), lastGood: null, fromCache: true };
      } else {
        toProbe.push({ index, account });
      }
    }
    if (toProbe.length === 0) return { ...loaded, checks };

    // Local accounts through the token-aware engine; CPA accounts through api-call (the token stays in CPA).
    const local = toProbe.filter((p) => !isCpaAccount(p.account));
    const remote = toProbe.flatMap((p) => (isCpaAccount(p.account) ? [p.account] : []));
    const localProbed =
      local.length > 0
        ? await this.#probe(
            local.map((p) => p.account),
            options,
          )
        : [];
    if (local.length > 0) await this.repos.settings.set(USAGE_PATHS_SETTING, await this.#usagePaths());
    const remoteProbed =
      remote.length > 0
        ? await this.cpa.probe(
            remote,
            {
              chatgptUrl: this.config.chatgptUrl,
              retries: this.config.retries,
              retryDelayMs: this.config.retryDelayMs,
              timeoutMs: this.config.timeoutMs,
              clock: this.clock,
              concurrency: await this.probeConcurrency(options.concurrency),
            },
            options.onProgress,
          )
        : new Map<string, ProbeOutcome>();
    const localAt = new Map(local.map((p, i) => [p.account.id, localProbed[i]]));
    const probed = toProbe.map(
      ({ account }) => localAt.get(account.id) ?? { account, result: remoteProbed.get(account.id)! },
    );

    // During shutdown only conclusive answers are kept: a probe cut short (or refused a retry) would
    // read as a network failure it never had.
    if (this.shutdown.stopping && probed.some((p) => p.result.transient)) throw new ShutdownError();
    for (const [i, { index, account }] of toProbe.entries()) {
      const { account: current, result } = probed[i];
      await this.repos.snapshots.insertProbe(account.id, stripRaw(result));
      await this.#updateFlag(account.id, result);
      // A transient result does not move the conclusive pointer: the one read above is still the last good.
      const lastGood = result.transient ? (latestById.get(account.id) ?? null) : null;
      checks[index] = {
        account: current,
        result,
        lastGood: lastGood && !lastGood.transient ? lastGood : null,
        fromCache: false,
      };
    }
    return { ...loaded, checks };
  }

  async #usagePaths(): Promise<UsagePathMemory> {
    this.#pathMemory ??= (await this.repos.settings.get<UsagePathMemory>(USAGE_PATHS_SETTING)) ?? {};
    return this.#pathMemory;
  }

  async #probe(
    accounts: readonly Account[],
    options: QuotaCheckOptions,
  ): Promise<Array<{ account: Account; result: ProbeOutcome }>> {
    const tokens = this.tokenManager(options.tokenRefresh);
    const current = new Map<number, Account>();
    // Refresh tokens that are about to expire before probing (only where refresh is allowed).
    if (tokens.canRefresh) {
      for (const [i, account] of accounts.entries()) {
        this.shutdown.check();
        const fresh = await tokens.ensureFresh(account);
        current.set(i, fresh.account);
      }
    }
    const accountAt = (i: number) => current.get(i) ?? accounts[i];
    const targets: SweepTarget[] = accounts.map((a, i) => ({
      name: a.name,
      accessToken: accountAt(i).credentials.accessToken,
      accountId: accountAt(i).credentials.accountId ?? a.accountId,
    }));
    const mode = options.probe ?? this.probeMode;
    let cloudflareAnswers = 0;
    const base: ProbeOptions = {
      chatgptUrl: this.config.chatgptUrl,
      retries: this.config.retries,
      retryDelayMs: this.config.retryDelayMs,
      timeoutMs: this.config.timeoutMs,
      pathMemory: await this.#usagePaths(),
      captureRaw: options.captureRaw,
      clock: this.clock,
      // On shutdown no probe starts (probeAll's signal); one already started may finish until the
      // cutoff, which aborts its request, and a retry's backoff does not hold the shutdown.
      fetch: (url, init) => fetch(url, { ...init, signal: anySignal(init?.signal, this.shutdown.cutoff) }),
      sleep: abortableSleep(this.shutdown.stop),
    };
    const responses = options.model ? await import('../upstream/responses-probe.ts') : null;
    const httpProbe = responses
      ? (t: SweepTarget, o: ProbeOptions) => responses.probeViaResponses(t, { ...o, model: options.model! })
      : undefined;
    const results = await probeAll(
      targets,
      {
        ...base,
        concurrency: await this.probeConcurrency(options.concurrency),
        signal: this.shutdown.stop,
        probe: async (target, probeOptions) => {
          const index = targets.indexOf(target);
          const useCli = mode === 'codex-cli' || (mode === 'auto' && cloudflareAnswers >= AUTO_CLI_AFTER_CLOUDFLARE);
          if (useCli) return this.#probeWithCli(accountAt(index), current, index, tokens.canRefresh);
          const outcome = await (httpProbe ?? probeAccount)(target, probeOptions);
          if (outcome.reason === 'cloudflare_challenge') cloudflareAnswers++;
          if (
            mode === 'auto' &&
            outcome.reason === 'cloudflare_challenge' &&
            cloudflareAnswers >= AUTO_CLI_AFTER_CLOUDFLARE
          ) {
            return this.#probeWithCli(accountAt(index), current, index, tokens.canRefresh);
          }
          return outcome;
        },
        optionsFor: (_target, index) => ({
          onUnauthorized: async (): Promise<string | null | RefreshFailure> => {
            const refreshed = await tokens.refreshAfterUnauthorized(accountAt(index));
            current.set(index, refreshed.account);
            if (refreshed.ok) return refreshed.account.credentials.accessToken;
            if (refreshed.state === 'read_only' || refreshed.state === 'unsupported') return null;
            return {
              errorCode: refreshed.code,
              httpStatus: refreshed.httpStatus,
              message: refreshed.message,
              final: refreshed.state === 'auth_invalid',
            };
          },
        }),
      },
      options.onProgress,
    );
    return results.map((result, i) => ({ account: accountAt(i), result }));
  }

  async #probeWithCli(
    account: Account,
    current: Map<number, Account>,
    index: number,
    allowTokenRefresh: boolean,
  ): Promise<ProbeOutcome> {
    const { probeViaCodexCli } = await import('../upstream/codex-cli-probe.ts');
    const outcome: CodexCliProbeOutcome = await probeViaCodexCli(account.credentials, {
      chatgptUrl: this.config.chatgptUrl,
      authUrl: this.config.authUrl,
      timeoutMs: Math.max(this.config.timeoutMs, 20_000),
      now: this.clock,
      // A read-only command must not let the CLI spend a refresh token either.
      allowTokenRefresh,
    });
    if (outcome.rotatedCredentials) {
      // The CLI refreshed inside its private home: persist the new pair before anything else uses it.
      const rotated = outcome.rotatedCredentials;
      const saved = await writeAccountTokens(account, {
        accessToken: rotated.accessToken ?? '',
        refreshToken: rotated.refreshToken,
        idToken: rotated.idToken,
        expiresIn: null,
        refreshedAt: new Date(this.clock()),
      });
      if (saved.ok) current.set(index, saved.account);
    }
    const { rotatedCredentials: _, ...result } = outcome;
    return result;
  }

  async #updateFlag(accountId: string, result: ProbeResult): Promise<void> {
    const existing = await this.repos.flags.get(accountId);
    const prev = existing && existing.clearedAt == null ? existing : null;
    const next = nextFlagState(prev, result, this.clock());
    if (!prev && next) await this.repos.flags.flag(accountId, next.flaggedReason);
    else if (prev && !next) await this.repos.flags.clear(accountId);
    else if (prev && next && next.verificationCount > prev.verificationCount) {
      await this.repos.flags.recordVerification(accountId);
    }
  }

  async #recordTokenEvent(event: TokenEvent): Promise<void> {
    if (event.type === 'refreshed' || event.type === 'adopted') {
      await this.repos.accounts.recordRefreshSuccess(event.accountId, event.expiresAt, event.at);
    } else {
      await this.repos.accounts.recordRefreshFailure(event.accountId, event.code, event.at);
      // A dead refresh token is a hard auth failure: the report lists it among the flagged accounts.
      if (event.type === 'auth_invalid') {
        const flag = await this.repos.flags.get(event.accountId);
        if (!flag || flag.clearedAt != null) await this.repos.flags.flag(event.accountId, event.code, event.at);
      }
    }
  }
}

function anySignal(a: AbortSignal | null | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

function selectAccounts(accounts: readonly Account[], names: readonly string[] | undefined): Account[] {
  if (!names?.length) return [...accounts];
  const wanted = new Set(names);
  return accounts.filter((a) => wanted.has(a.name) || wanted.has(a.id) || (a.email != null && wanted.has(a.email)));
}

/** Raw answers are for --raw-json/--raw-headers on the terminal only: never stored. */
function stripRaw(result: ProbeOutcome): ProbeResult {
  const { raw: _, ...rest } = result;
  return rest;
}
