// Leader election over a lease: one instance runs schedules, the quota refresher and the usage
// collector; every instance serves. Each tick the leader renews and the others try to acquire.
// If the database cannot be reached, the leader steps down once its lease would have expired,
// because by then another instance may have taken over. A leader on this host whose process is gone
// is taken over at once (LeaseStore.acquireOrTakeOver).

import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Clock } from '../domain/time.ts';
import { nodeCrypto } from '../runtime/crypto.ts';
import type { Lease, LeaseStore } from './lease.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A holder id unique to this process: a restarted instance must never reuse its predecessor's id. */
export function instanceId(): string {
  return `${hostname()}:${process.pid}:${nodeCrypto().randomUUID().slice(0, 8)}`;
}

export interface LeaderOptions {
  leases: LeaseStore;
  /** Lease name, e.g. "leader". */
  name: string;
  /** Unique per process: see instanceId(). */
  holder: string;
  ttlMs: number;
  /** How often to renew / retry; default a third of the ttl so two missed ticks still keep the lease. */
  intervalMs?: number;
  clock?: Clock;
  timers?: Timers;
}

export interface LeaderEvents {
  gained: [lease: Lease];
  lost: [reason: 'expired' | 'taken' | 'error' | 'stopped'];
  error: [error: Error];
}

export class LeaderElector extends EventEmitter<LeaderEvents> {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly intervalMs: number;
  #leases: LeaseStore;
  #clock: Clock;
  #timers: Timers;
  #lease: Lease | null = null;
  #timer: unknown = null;
  #running = false;
  #ticking: Promise<void> | null = null;

  constructor(options: LeaderOptions) {
    super();
    if (!(options.ttlMs > 0)) throw new Error('leader: ttlMs must be positive');
    this.name = options.name;
    this.holder = options.holder;
    this.ttlMs = options.ttlMs;
    this.intervalMs = options.intervalMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    if (this.intervalMs >= this.ttlMs) throw new Error('leader: intervalMs must be shorter than ttlMs');
    this.#leases = options.leases;
    this.#clock = options.clock ?? Date.now;
    this.#timers = options.timers ?? realTimers;
  }

  get isLeader(): boolean {
    return this.#lease !== null;
  }

  /** The fencing token while leader: stamp work with it. */
  get token(): number | null {
    return this.#lease?.token ?? null;
  }

  get lease(): Lease | null {
    return this.#lease;
  }

  /** Tries at once, then on every interval. */
  start(): Promise<void> {
    if (this.#running) return this.#ticking ?? Promise.resolve();
    this.#running = true;
    return this.#loop();
  }

  /** Stops ticking and releases the lease so another instance can take over without waiting for expiry. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#ticking;
    const lease = this.#lease;
    if (lease) {
      this.#lease = null;
      await this.#leases.release(this.name, this.holder, lease.token).catch(() => false);
      this.emit('lost', 'stopped');
    }
  }

  /** One round: renew if leader, else try to acquire. Exposed for tests driving a fake clock. */
  async tick(): Promise<void> {
    if (this.#ticking) return this.#ticking;
    this.#ticking = this.#tickOnce().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #loop(): Promise<void> {
    await this.tick();
    if (!this.#running) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.#loop();
    }, this.intervalMs);
  }

  async #tickOnce(): Promise<void> {
    const held = this.#lease;
    try {
      if (held) {
        const renewed = await this.#leases.renew(this.name, this.holder, held.token, this.ttlMs);
        if (renewed) {
          this.#lease = renewed;
          return;
        }
        this.#lease = null;
        const now = await this.#leases.current(this.name).catch(() => null);
        this.emit('lost', now && now.holder !== this.holder ? 'taken' : 'expired');
      }
      const got = await this.#leases.acquireOrTakeOver(this.name, this.holder, this.ttlMs);
      if (got) {
        this.#lease = got;
        this.emit('gained', got);
      }
    } catch (error) {
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
      if (this.#lease && this.#clock() >= this.#lease.expiresAt) {
        this.#lease = null;
        this.emit('lost', 'error');
      }
    }
  }
}
