// Runs one usage source: holds the queue's lease (exactly one consumer per queue), pops in batches,
// spools before processing, commits, then empties the spool. One batch commits while the next is popped
// and parsed, so there are two spool files: each batch goes to the one its predecessor is not using,
// and a commit empties only its own. Counters are plain numbers for /metrics.
import type { Clock } from '../domain/time.ts';
import type { LeaseStore } from '../store/lease.ts';
import { type RawRecord, SourceError, type UsageSource } from './collectors/types.ts';
import { collectorHolder } from './heap.ts';
import { type MonitorIngest, newBatch, type ParsedBatch } from './ingest.ts';
import { Spool } from './spool.ts';

export const COLLECTOR_STATES = ['idle', 'running', 'refused', 'lost_lease', 'auth_failed', 'stopped'] as const;
export type CollectorState = (typeof COLLECTOR_STATES)[number];

export interface CollectorStats {
  state: CollectorState;
  queue: string;
  holder: string;
  /** Who holds the lease when we were refused (or lost it). */
  leaseHolder: string | null;
  popped: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
  replayed: number;
  tornSpoolLines: number;
  errors: number;
  consecutiveErrors: number;
  lastError: string | null;
  lastCommitAt: number | null;
  /** Time from the oldest record of the last batch to its commit: how far behind the collector runs. */
  lagMs: number | null;
  spoolPending: number;
  droppedFromBuffer: number;
}

export interface CollectorOptions {
  source: UsageSource;
  ingest: MonitorIngest;
  leases: LeaseStore;
  spoolPath: string;
  holder?: string;
  /** Records asked per pop (LPOP count). */
  popSize?: number;
  /** Records gathered (several pops) into one commit. */
  maxBatch?: number;
  /** Wait when the queue is empty. */
  idleMs?: number;
  leaseTtlMs?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export type StartResult = { ok: true; replayed: number } | { ok: false; holder: string; message: string };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

export function leaseNameFor(queueId: string): string {
  return `monitor.collector:${queueId}`;
}

/** The second spool file beside `path` (monitor-spool-x.jsonl → monitor-spool-x.2.jsonl). */
export function secondSpoolPath(path: string): string {
  return path.endsWith('.jsonl') ? `${path.slice(0, -'.jsonl'.length)}.2.jsonl` : `${path}.2`;
}

export class Collector {
  readonly stats: CollectorStats;
  private readonly o: Required<Omit<CollectorOptions, 'holder'>> & { holder: string };
  private readonly spools: [Spool, Spool];
  /** The spool the next batch goes to (the other may hold the batch still committing). */
  private slot = 0;
  /** The commit of the previous batch, still running while the next batch is gathered. */
  private inflight: Promise<void> | null = null;
  private token: number | null = null;
  private renewedAt = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private popping = 0;
  private halt: (() => void) | null = null;

  constructor(options: CollectorOptions) {
    this.o = {
      source: options.source,
      ingest: options.ingest,
      leases: options.leases,
      spoolPath: options.spoolPath,
      holder: options.holder ?? collectorHolder(),
      popSize: options.popSize ?? 1000,
      maxBatch: options.maxBatch ?? 10_000,
      idleMs: options.idleMs ?? 250,
      leaseTtlMs: options.leaseTtlMs ?? 15_000,
      clock: options.clock ?? Date.now,
      sleep: options.sleep ?? defaultSleep,
    };
    this.spools = [new Spool(options.spoolPath), new Spool(secondSpoolPath(options.spoolPath))];
    this.stats = {
      state: 'idle',
      queue: options.source.queueId,
      holder: this.o.holder,
      leaseHolder: null,
      popped: 0,
      inserted: 0,
      duplicates: 0,
      quarantined: 0,
      replayed: 0,
      tornSpoolLines: 0,
      errors: 0,
      consecutiveErrors: 0,
      lastError: null,
      lastCommitAt: null,
      lagMs: null,
      spoolPending: 0,
      droppedFromBuffer: 0,
    };
  }

  get leaseName(): string {
    return leaseNameFor(this.o.source.queueId);
  }

  /**
   * Takes the lease (or says who holds it), then replays what a crashed run left in the spool. A
   * holder on this host whose process is gone is taken over at once, so a supervisor's restart works.
   */
  async start(): Promise<StartResult> {
    const lease = await this.o.leases.acquireOrTakeOver(this.leaseName, this.o.holder, this.o.leaseTtlMs);
    if (!lease) {
      const cur = await this.o.leases.current(this.leaseName);
      const holder = cur?.holder ?? 'unknown';
      this.stats.state = 'refused';
      this.stats.leaseHolder = holder;
      return {
        ok: false,
        holder,
        message: `another collector (${holder}) consumes ${this.o.source.queueId}; only one consumer per queue: stop it first or wait until its lease expires`,
      };
    }
    this.token = lease.token;
    this.renewedAt = this.o.clock();
    this.stats.leaseHolder = this.o.holder;
    const replayed = await this.replaySpools();
    this.stats.replayed += replayed;
    this.stats.state = 'running';
    return { ok: true, replayed };
  }

  /** Opens both spools and commits what a previous run left in them; returns how many records. */
  private async replaySpools(): Promise<number> {
    const records: string[] = [];
    for (const spool of this.spools) {
      const replay = spool.open();
      this.stats.tornSpoolLines += replay.torn;
      for (const r of replay.records) records.push(r);
    }
    if (records.length > 0) await this.commit(records);
    else for (const spool of this.spools) spool.clear();
    return records.length;
  }

  /**
   * One cycle: pop until the batch is full or the queue is empty, spool, then start its commit and
   * return the records handled; the commit runs while the next cycle pops (settle() waits for it).
   * Pipelined: each pop is written to the spool, the next pop is sent, and the records are parsed and
   * flushed to disk while it travels; a commit starts once every flush is done and the previous
   * commit has finished. An empty queue returns 0 once the last commit is done.
   */
  async runOnce(): Promise<number> {
    if (this.stats.state !== 'running') return 0;
    if (!(await this.keepLease())) return 0;
    const spool = this.spools[this.slot];
    // Records are kept parsed only: the raw text is in the spool, and holding both doubles the memory.
    let count = 0;
    const parsed = newBatch(this.o.maxBatch);
    const flushes: Array<Promise<void>> = [];
    let failed: unknown = null;
    try {
      let next: Promise<RawRecord[]> | null = this.pop(Math.min(this.o.popSize, this.o.maxBatch));
      while (next !== null) {
        const got: RawRecord[] = await next;
        next = null;
        if (got.length === 0) break;
        spool.write(got);
        if (this.halt) {
          this.halt();
          return 0;
        }
        flushes.push(spool.sync());
        this.stats.popped += got.length;
        count += got.length;
        if (got.length >= this.o.popSize && count < this.o.maxBatch)
          next = this.pop(Math.min(this.o.popSize, this.o.maxBatch - count));
        this.o.ingest.parseInto(parsed, got);
      }
    } catch (error) {
      if (this.halt) {
        this.halt();
        return 0;
      }
      failed = error;
    }
    // Whatever was popped is in the spool; it is committed only once it is on disk, after the batch
    // before it (which used the other spool).
    await Promise.all(flushes);
    await this.settle();
    if (count > 0) {
      const committing = this.commit(parsed, spool);
      // Awaited by the next cycle or settle(); until then its failure must not count as unhandled.
      committing.catch(() => {});
      this.inflight = committing;
      this.slot = 1 - this.slot;
    }
    if (failed !== null) this.fail(failed);
    else this.stats.consecutiveErrors = 0;
    return count;
  }

  /** Waits for the commit still running, if any; throws its error (its records stay in the spool). */
  async settle(): Promise<void> {
    const committing = this.inflight;
    this.inflight = null;
    if (committing !== null) await committing;
  }

  private async pop(n: number): Promise<RawRecord[]> {
    this.popping++;
    try {
      return await this.o.source.pop(n);
    } finally {
      this.popping--;
    }
  }

  /**
   * Ends the process the way a crash would, but never with popped records outside the spool: an LPOP
   * on the wire has already left the queue, so its records are spooled first. `die` then kills the
   * process; the next collector replays the spool.
   */
  haltSoon(die: () => void): void {
    if (this.popping === 0) die();
    else this.halt = die;
  }

  /** Loops until stop(): backs off when idle or failing. */
  run(): Promise<void> {
    this.loop ??= (async () => {
      while (!this.stopping && this.stats.state === 'running') {
        let n = 0;
        try {
          n = await this.runOnce();
        } catch (error) {
          // A failed commit leaves the records in the spool; they are retried on the next cycle's replay.
          this.fail(error);
          await this.replaySpool();
        }
        if (this.stopping) break;
        if (this.stats.consecutiveErrors > 0)
          await this.o.sleep(Math.min(200 * 2 ** Math.min(this.stats.consecutiveErrors, 6), 10_000));
        else if (n === 0) await this.o.sleep(this.o.idleMs);
      }
    })();
    return this.loop;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop?.catch(() => {});
    // A commit that fails here leaves its records in the spool for the next start.
    await this.settle().catch((error) => this.fail(error));
    if (this.token !== null) await this.o.leases.release(this.leaseName, this.o.holder, this.token).catch(() => false);
    this.token = null;
    for (const spool of this.spools) spool.close();
    await this.o.source.close();
    if (this.stats.state === 'running') this.stats.state = 'stopped';
  }

  private async replaySpool(): Promise<void> {
    try {
      await this.settle().catch(() => {});
      for (const spool of this.spools) spool.close();
      await this.replaySpools();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Stores a batch (raw records from a replay, or parsed) and empties the spool it came from (all for a replay). */
  private async commit(input: string[] | ParsedBatch, from?: Spool): Promise<void> {
    const replay = Array.isArray(input);
    const oldest = replay ? oldestTimestamp(input) : input.oldest;
    const r = replay ? await this.o.ingest.ingestRaw(input) : await this.o.ingest.ingestParsed(input);
    // The next batch for this spool is written only after this commit settled, so the truncate runs
    // on the thread pool.
    if (from) await from.clearSoon();
    else for (const spool of this.spools) spool.clear();
    const now = this.o.clock();
    this.stats.inserted += r.inserted;
    this.stats.duplicates += r.duplicates;
    this.stats.quarantined += r.quarantined;
    this.stats.lastCommitAt = now;
    this.stats.lagMs = oldest === null ? null : Math.max(0, now - oldest);
    this.stats.spoolPending = this.spools[0].size + this.spools[1].size;
    const dropped = (this.o.source as { dropped?: number }).dropped;
    if (typeof dropped === 'number') this.stats.droppedFromBuffer = dropped;
  }

  private async keepLease(): Promise<boolean> {
    const now = this.o.clock();
    if (this.token !== null && now - this.renewedAt < this.o.leaseTtlMs / 3) return true;
    let lease =
      this.token === null
        ? null
        : await this.o.leases.renew(this.leaseName, this.o.holder, this.token, this.o.leaseTtlMs);
    // A slow batch can outlast the lease. If nobody took it meanwhile, nobody popped: take it again.
    if (!lease && this.token !== null)
      lease = await this.o.leases.acquire(this.leaseName, this.o.holder, this.o.leaseTtlMs);
    if (lease) this.token = lease.token;
    if (!lease) {
      const cur = await this.o.leases.current(this.leaseName);
      this.stats.state = 'lost_lease';
      this.stats.leaseHolder = cur?.holder ?? null;
      this.stats.lastError = `lost the lease on ${this.o.source.queueId}${cur ? ` to ${cur.holder}` : ''}; stopped popping`;
      return false;
    }
    this.renewedAt = now;
    return true;
  }

  private fail(error: unknown): void {
    this.stats.errors++;
    this.stats.consecutiveErrors++;
    this.stats.lastError = (error as Error).message ?? String(error);
    if (error instanceof SourceError && (error.kind === 'auth' || error.kind === 'config'))
      this.stats.state = 'auth_failed';
  }
}

// Cheap scan for "timestamp" without parsing every record twice.
function oldestTimestamp(records: readonly string[]): number | null {
  let oldest: number | null = null;
  for (const r of records) {
    const m = /"timestamp"\s*:\s*"([^"]+)"/.exec(r);
    if (!m) continue;
    const t = Date.parse(m[1]);
    if (!Number.isNaN(t) && (oldest === null || t < oldest)) oldest = t;
  }
  return oldest;
}

/** The collector's counters as flat numbers (the metrics room names and exports them). */
export function collectorMetrics(s: CollectorStats): Record<string, number> {
  return {
    up: s.state === 'running' ? 1 : 0,
    popped_total: s.popped,
    inserted_total: s.inserted,
    duplicates_total: s.duplicates,
    quarantined_total: s.quarantined,
    replayed_total: s.replayed,
    errors_total: s.errors,
    consecutive_errors: s.consecutiveErrors,
    lag_seconds: s.lagMs === null ? Number.NaN : s.lagMs / 1000,
    spool_pending: s.spoolPending,
    dropped_total: s.droppedFromBuffer,
    last_commit_timestamp_seconds: s.lastCommitAt === null ? Number.NaN : s.lastCommitAt / 1000,
  };
}
