// Joins what requests through CPA say about each account to the account (issue 20): the mapping from a
// monitoring event's auth_index to an account, the per-account outcomes of the last hour and 24 h (one
// read of monitoring for all accounts, re-read off the request path after collector batches), and the disagreement loop:
// after each committed batch, an account whose requests since its last probe contradict that probe is
// re-probed at once (rate-limited per account). It never acts on an account by itself.
import { authIndexFor } from '../cpa/auth-index.ts';
import type { Account } from '../domain/account.ts';
import type { InspectionRequestEvidence } from '../domain/inspection.ts';
import type { AccountState } from '../domain/quota.ts';
import {
  DEFAULT_DISAGREEMENT_SETTINGS,
  type Disagreement,
  type DisagreementSettings,
  detectDisagreement,
  failureClass,
  mayReprobe,
  type RequestOutcomes as SinceProbe,
} from '../inspect/disagreement.ts';
import type { InsertedEvent } from '../monitor/ingest.ts';
import { accountFailures } from '../monitor/queries.ts';
import type { MonitorService } from '../monitor/service.ts';

const HOUR = 3_600_000;
/** The last-hour window slides: a snapshot older than this is read again even without a new batch. */
const SNAPSHOT_TTL_MS = 30_000;
/** After a batch the outcomes are read again, at most this often (a busy collector commits many a second). */
const MIN_REFRESH_MS = 5_000;

export interface OutcomeSpan {
  requests: number;
  failures: number;
  /** Failures per HTTP status ("429": 12). */
  failuresByStatus: Record<string, number>;
  /** Failures per failure type ("usage_limit_reached": 12). */
  failuresByType: Record<string, number>;
  tokens: number;
  /** Estimated USD of the priced requests; null when none could be priced. */
  costUsd: number | null;
}

export interface AccountDisagreement extends Disagreement {
  /** ISO time it was seen (after a collector batch). */
  detectedAt: string;
  /** What the probe said when the requests disagreed with it. */
  probeState: AccountState | null;
  /** ISO time of the re-probe it triggered, null while rate-limited or pending. */
  reprobedAt: string | null;
  /** The state that re-probe found, once it is back. */
  reprobeState: AccountState | null;
}

/** Per account: what its requests through CPA said recently, beside the probe's answer. */
export interface AccountRequests {
  /** The CPA auth_index the requests are keyed by. */
  authIndex: string;
  lastHour: OutcomeSpan;
  last24h: OutcomeSpan;
  /** The newest failure in 24 h, sanitized (status, type, first message line; never the raw body). */
  lastFailure: {
    at: string;
    status: number;
    failureType: string | null;
    errorCode: string | null;
    message: string | null;
  } | null;
  /** The newest disagreement with the probe (kept after the re-probe, as evidence). */
  disagreement: AccountDisagreement | null;
}

/** What the loop needs to know of an account's probe (from the account view and disable ownership). */
export interface ProbeFacts {
  state: AccountState | null;
  checkedAt: number | null;
  disabledBy: 'codex-fleet' | 'person' | null;
}

const localIndexes = new Map<string, string>();
/** sha256 per path once per process: every view maps every account. */
function localIndex(path: string): string {
  let index = localIndexes.get(path);
  if (index === undefined) {
    if (localIndexes.size > 100_000) localIndexes.clear();
    index = authIndexFor('codex', path);
    localIndexes.set(path, index);
  }
  return index;
}

/**
 * auth_index → account. A CPA account maps by the auth_index CPA lists for it (CPA derives it from the
 * file's absolute path, so it survives CPA restarts and changes only when the auth dir moves, which
 * `doctor` checks). A local auth file maps by sha256("codex:" + its absolute path) (UPSTREAM.md §5):
 * it matches only when CPA proxies that very file. A CPA listing wins over a local file; an index two
 * CPA servers share (same path on both) maps to the collector's server when given, else to none.
 */
export function accountIndexMap(accounts: readonly Account[], collectorServer?: string | null): Map<string, string> {
  const cpa = new Map<string, string[]>();
  const local = new Map<string, string>();
  for (const a of accounts) {
    const ref = (a as Account & { cpa?: { server: string; authIndex: string | null } }).cpa;
    if (a.sourceKind === 'cpa' && ref?.authIndex) {
      const list = cpa.get(ref.authIndex) ?? [];
      list.push(`${ref.server}\u0000${a.id}`);
      cpa.set(ref.authIndex, list);
    } else if (a.sourceKind !== 'cpa' && a.sourcePath && a.sourceIndex == null) {
      local.set(localIndex(a.sourcePath), a.id);
    }
  }
  const out = new Map(local);
  for (const [index, holders] of cpa) {
    const pick =
      holders.length === 1
        ? holders[0]
        : holders.find((h) => collectorServer && h.startsWith(`${collectorServer}\u0000`));
    if (pick) out.set(index, pick.slice(pick.indexOf('\u0000') + 1));
    else out.delete(index);
  }
  return out;
}

/** Lets I/O callbacks (waiting HTTP requests) run before the next synchronous query. */
function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function emptySpan(): OutcomeSpan {
  return { requests: 0, failures: 0, failuresByStatus: {}, failuresByType: {}, tokens: 0, costUsd: null };
}

function emptySince(): SinceProbe {
  return {
    requests: 0,
    failures: 0,
    authFailures: 0,
    quotaFailures: 0,
    successes: 0,
    lastSuccessAt: null,
    lastFailureAt: null,
  };
}

export interface RequestOutcomesOptions {
  monitor: MonitorService;
  clock: () => number;
  /** Every account (for the mapping). */
  accounts: () => Promise<Account[]>;
  /** The probe facts of these accounts. */
  probes: (ids: string[]) => Promise<Map<string, ProbeFacts>>;
  /** Re-probes one account (the core's refreshAccount); its result is read back through `probes`. */
  reprobe: (id: string) => Promise<unknown>;
  /** Told of each new disagreement (notifications); never throws into the loop. */
  onDisagreement?: (account: { id: string; name: string }, d: AccountDisagreement) => void;
  /** Told when an account's disagreement changed (SSE 'accounts'; the core's account list is rebuilt). */
  onChange?: (accountId: string) => void;
  /** Told when a new read of the outcomes is in: every account's counts may have changed. */
  onSnapshot?: () => void;
  onError?: (error: Error) => void;
  /** Where the thresholds are stored (`requests.disagreement`); the defaults without it. */
  settings?: { get<T = unknown>(key: string): Promise<T | undefined> };
  collectorServer?: string | null;
}

/** The join, held by the core: outcomes for the views, and the disagreement loop fed by collector batches. */
export class RequestOutcomesJoin {
  readonly #o: RequestOutcomesOptions;
  #snapshot: { at: number; byIndex: Map<string, Omit<AccountRequests, 'disagreement'>> } | null = null;
  #reading: Promise<Map<string, Omit<AccountRequests, 'disagreement'>>> | null = null;
  /** A batch arrived since the snapshot was read; a refresh is scheduled. */
  #dirty = false;
  #refreshTimer: NodeJS.Timeout | null = null;
  #refreshDone: Promise<void> = Promise.resolve();
  #index: { at: number; map: Map<string, string>; names: Map<string, string> } | null = null;
  /** Requests since each account's last probe, counted from the batches (keyed by account id). */
  readonly #since = new Map<string, { checkedAt: number | null; outcomes: SinceProbe }>();
  readonly #disagreements = new Map<string, AccountDisagreement>();
  readonly #lastReprobe = new Map<string, number>();
  #chain: Promise<void> = Promise.resolve();
  readonly #listener: (events: InsertedEvent[]) => void;
  #closed = false;

  constructor(options: RequestOutcomesOptions) {
    this.#o = options;
    this.#listener = (events) => {
      this.#scheduleRefresh();
      // Batches are handled one after another so counts and re-probes never interleave.
      this.#chain = this.#chain.then(() => this.onBatch(events)).catch((e) => this.#fail(e));
    };
    options.monitor.emitter.on('events', this.#listener);
  }

  /** Resolves when every batch seen so far has been handled (re-probes included). */
  async settled(): Promise<void> {
    await this.#chain;
    await this.#refreshDone;
  }

  /**
   * Re-reads the outcomes off the request path after a batch, at most every MIN_REFRESH_MS: the views
   * keep serving the previous snapshot meanwhile, so a busy collector never makes a view wait.
   */
  #scheduleRefresh(): void {
    this.#dirty = true;
    if (this.#refreshTimer || this.#closed) return;
    const since = this.#snapshot ? this.#o.clock() - this.#snapshot.at : MIN_REFRESH_MS;
    let done!: () => void;
    this.#refreshDone = new Promise((resolve) => {
      done = resolve;
    });
    this.#refreshTimer = setTimeout(
      () => {
        this.#refreshTimer = null;
        this.#dirty = false;
        // A read already in flight may have started before this batch: read again after it.
        Promise.resolve(this.#reading)
          .catch(() => undefined)
          .then(() => this.#reload())
          .catch((e) => this.#fail(e))
          .finally(() => {
            done();
            if (this.#dirty) this.#scheduleRefresh();
          });
      },
      Math.max(0, MIN_REFRESH_MS - since),
    );
    this.#refreshTimer.unref();
  }

  /** Reads the outcomes now (the next view serves them); the benchmark times this read. */
  async refresh(): Promise<void> {
    await this.#reload();
  }

  #reload(): Promise<Map<string, Omit<AccountRequests, 'disagreement'>>> {
    // Concurrent callers share one read.
    this.#reading ??= this.#load(this.#o.clock()).finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  /** Stops listening and waits for a batch or read in flight, so the store is closed only after them. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#o.monitor.emitter.off('events', this.#listener);
    await Promise.allSettled([this.#chain, this.#reading]);
  }

  /** An error is said while the join runs; once closing, a read cut short by the closing store is expected. */
  #fail(error: unknown): void {
    if (!this.#closed) this.#o.onError?.(error as Error);
  }

  async #indexMap(): Promise<Map<string, string>> {
    const now = this.#o.clock();
    if (this.#index && now - this.#index.at < SNAPSHOT_TTL_MS) return this.#index.map;
    const accounts = await this.#o.accounts();
    const map = accountIndexMap(accounts, this.#o.collectorServer);
    this.#index = { at: now, map, names: new Map(accounts.map((a) => [a.id, a.name])) };
    return map;
  }

  /** Request outcomes for these accounts, by account id (one monitoring read per refresh for all). */
  async forAccounts(accounts: readonly Account[]): Promise<Map<string, AccountRequests>> {
    const byIndex = await this.#read();
    const map = accountIndexMap(accounts, this.#o.collectorServer);
    const out = new Map<string, AccountRequests>();
    for (const [index, id] of map) {
      const found = byIndex.get(index);
      const disagreement = this.#disagreements.get(id) ?? null;
      if (!found && !disagreement) continue;
      out.set(id, {
        ...(found ?? { authIndex: index, lastHour: emptySpan(), last24h: emptySpan(), lastFailure: null }),
        disagreement,
      });
    }
    return out;
  }

  #read(): Promise<Map<string, Omit<AccountRequests, 'disagreement'>>> {
    const snap = this.#snapshot;
    if (!snap) return this.#reload();
    // An old snapshot is served while the next one is read (stale-while-revalidate): views never wait.
    if (this.#o.clock() - snap.at >= SNAPSHOT_TTL_MS) this.#reload().catch((e) => this.#fail(e));
    return Promise.resolve(snap.byIndex);
  }

  async #load(now: number): Promise<Map<string, Omit<AccountRequests, 'disagreement'>>> {
    const q = this.#o.monitor.queries;
    // One query at a time, yielding between them: node:sqlite holds the event loop for each, and a
    // request waiting behind the read should wait for one query, not three.
    const day = await q.accounts({ from: now - 24 * HOUR, to: now + 1 });
    await yieldToRequests();
    const hour = await q.accounts({ from: now - HOUR, to: now + 1 });
    await yieldToRequests();
    const failures = await accountFailures(q, now - 24 * HOUR, now - HOUR);
    const byIndex = new Map<string, Omit<AccountRequests, 'disagreement'>>();
    const entry = (index: string) => {
      let e = byIndex.get(index);
      if (!e) {
        e = { authIndex: index, lastHour: emptySpan(), last24h: emptySpan(), lastFailure: null };
        byIndex.set(index, e);
      }
      return e;
    };
    for (const [rows, span] of [
      [day, 'last24h'],
      [hour, 'lastHour'],
    ] as const) {
      for (const g of rows) {
        if (g.key == null) continue;
        const s = entry(g.key)[span];
        s.requests = g.requests;
        s.failures = g.failures;
        s.tokens = g.tokens.total;
        s.costUsd = g.costUsd;
      }
    }
    for (const f of failures.rows) {
      const e = entry(f.account);
      const type = f.failureType ?? 'unknown';
      const status = String(f.status);
      e.last24h.failuresByStatus[status] = (e.last24h.failuresByStatus[status] ?? 0) + f.failures;
      e.last24h.failuresByType[type] = (e.last24h.failuresByType[type] ?? 0) + f.failures;
      if (f.lastHour > 0) {
        e.lastHour.failuresByStatus[status] = (e.lastHour.failuresByStatus[status] ?? 0) + f.lastHour;
        e.lastHour.failuresByType[type] = (e.lastHour.failuresByType[type] ?? 0) + f.lastHour;
      }
    }
    for (const l of failures.last) {
      entry(l.account).lastFailure = {
        at: new Date(l.at).toISOString(),
        status: l.status,
        failureType: l.failureType,
        errorCode: l.errorCode ?? l.errorType,
        message: l.message,
      };
    }
    if (!this.#closed) {
      this.#snapshot = { at: now, byIndex };
      this.#o.onSnapshot?.();
    }
    return byIndex;
  }

  /** One committed batch: count it against each account's last probe, re-probe the ones that disagree. */
  async onBatch(events: readonly InsertedEvent[]): Promise<void> {
    if (this.#closed || events.length === 0) return;
    const map = await this.#indexMap();
    const touched = new Map<string, InsertedEvent['event'][]>();
    for (const { event } of events) {
      const id = event.authIndex == null ? undefined : map.get(event.authIndex);
      if (!id) continue;
      const list = touched.get(id) ?? [];
      list.push(event);
      touched.set(id, list);
    }
    if (touched.size === 0) return;
    const probes = await this.#o.probes([...touched.keys()]);
    const settings = disagreementSettingsOf(await this.#o.settings?.get(DISAGREEMENT_SETTING).catch(() => null));
    const now = this.#o.clock();
    for (const [id, list] of touched) {
      const probe = probes.get(id) ?? { state: null, checkedAt: null, disabledBy: null };
      let since = this.#since.get(id);
      if (!since || since.checkedAt !== probe.checkedAt) {
        since = { checkedAt: probe.checkedAt, outcomes: emptySince() };
        this.#since.set(id, since);
      }
      for (const e of list) {
        // Only requests after the probe are evidence against it.
        if (probe.checkedAt != null && e.timestamp <= probe.checkedAt) continue;
        const s = since.outcomes;
        s.requests++;
        if (e.failed) {
          s.failures++;
          s.lastFailureAt = Math.max(s.lastFailureAt ?? 0, e.timestamp);
          const kind = failureClass(e.status, e.failureType);
          if (kind === 'auth') s.authFailures++;
          else if (kind === 'quota') s.quotaFailures++;
        } else {
          s.successes++;
          s.lastSuccessAt = Math.max(s.lastSuccessAt ?? 0, e.timestamp);
        }
      }
      const found = detectDisagreement(probe, since.outcomes, settings);
      // Counts since the probe are not shown: only a new or reworded disagreement changes the views.
      if (!found) continue;
      const previous = this.#disagreements.get(id);
      const fresh = !previous || previous.kind !== found.kind || previous.reprobedAt != null;
      if (fresh || previous.summary !== found.summary) this.#o.onChange?.(id);
      const d: AccountDisagreement = fresh
        ? {
            ...found,
            detectedAt: new Date(now).toISOString(),
            probeState: probe.state,
            reprobedAt: null,
            reprobeState: null,
          }
        : { ...previous, summary: found.summary };
      this.#disagreements.set(id, d);
      if (fresh) this.#o.onDisagreement?.({ id, name: this.#index?.names.get(id) ?? id }, d);
      if (!mayReprobe(this.#lastReprobe.get(id) ?? null, now, settings)) continue;
      this.#lastReprobe.set(id, now);
      await this.#o.reprobe(id);
      const after = (await this.#o.probes([id])).get(id);
      d.reprobedAt = new Date(this.#o.clock()).toISOString();
      d.reprobeState = after?.state ?? null;
      // The new probe answers the requests before it: count afresh from it.
      this.#since.set(id, { checkedAt: after?.checkedAt ?? null, outcomes: emptySince() });
      this.#o.onChange?.(id);
    }
  }
}

/** The two numbers /metrics shows per account: requests and failures of the last hour. */
export function lastHourCounts(
  byAccount: ReadonlyMap<string, AccountRequests>,
): Map<string, { requests: number; failures: number }> {
  const out = new Map<string, { requests: number; failures: number }>();
  for (const [id, r] of byAccount) out.set(id, { requests: r.lastHour.requests, failures: r.lastHour.failures });
  return out;
}

/** The part of the outcomes an inspection result carries as evidence beside the probe's answer. */
export function inspectionEvidence(
  byAccount: ReadonlyMap<string, AccountRequests>,
): Map<string, InspectionRequestEvidence> {
  const out = new Map<string, InspectionRequestEvidence>();
  for (const [id, r] of byAccount) {
    out.set(id, {
      lastHour: {
        requests: r.lastHour.requests,
        failures: r.lastHour.failures,
        failuresByStatus: r.lastHour.failuresByStatus,
      },
      lastFailure: r.lastFailure
        ? {
            at: r.lastFailure.at,
            status: r.lastFailure.status,
            failureType: r.lastFailure.failureType,
            message: r.lastFailure.message,
          }
        : null,
      disagreement: r.disagreement
        ? {
            kind: r.disagreement.kind,
            summary: r.disagreement.summary,
            detectedAt: r.disagreement.detectedAt,
            reprobeState: r.disagreement.reprobeState,
          }
        : null,
    });
  }
  return out;
}

/** Where the disagreement thresholds are stored (settings); absent or invalid fields keep the defaults. */
export const DISAGREEMENT_SETTING = 'requests.disagreement';

/** The stored thresholds over the defaults: only finite, non-negative numbers (a share at most 1) count. */
export function disagreementSettingsOf(stored: unknown): DisagreementSettings {
  const out = { ...DEFAULT_DISAGREEMENT_SETTINGS };
  if (stored == null || typeof stored !== 'object') return out;
  for (const key of Object.keys(out) as Array<keyof DisagreementSettings>) {
    const v = (stored as Record<string, unknown>)[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) continue;
    if (key === 'minFailureShare' && v > 1) continue;
    out[key] = v;
  }
  return out;
}

/** Probe facts from account views; disable ownership is read only for disabled accounts. */
export async function probeFacts(
  views: ReadonlyArray<{ id: string; state: AccountState | null; lastCheckedAt: string | null; disabled: boolean }>,
  ownership: (id: string) => Promise<{ disabledBy: 'person' | 'codex-fleet' } | null>,
): Promise<Map<string, ProbeFacts>> {
  const out = new Map<string, ProbeFacts>();
  for (const v of views) {
    // A disable nobody owns counts as a person's: a decision, never contradicted by requests.
    const disabledBy = v.disabled ? ((await ownership(v.id))?.disabledBy ?? 'person') : null;
    out.set(v.id, {
      state: v.state,
      checkedAt: v.lastCheckedAt == null ? null : Date.parse(v.lastCheckedAt),
      disabledBy,
    });
  }
  return out;
}
