// Background work that must run on exactly one instance (scheduled inspections, the periodic quota
// refresher, the usage collector) runs only while this process holds the `leader` lease. Every
// instance keeps serving the API; only these tasks follow the lease. Losing the lease (renew refused,
// expiry passed without a renew, or stop()) aborts the tasks' signal at once and stops them.
import type { Clock } from '../domain/time.ts';
import { instanceId, LeaderElector } from '../store/leader.ts';
import type { LeaseStore } from '../store/lease.ts';

export const LEADER_LEASE = 'leader';
export const DEFAULT_LEADER_LEASE_MS = 15_000;

export interface LeaderContext {
  /** Fencing token of the lease these tasks run under. */
  token: number;
  /** Aborted the moment leadership is lost: long work should stop at the next step. */
  signal: AbortSignal;
  /** True while the lease row still names us with this token and has not expired: check before writing. */
  stillLeader(): Promise<boolean>;
}

export interface LeaderTask {
  name: string;
  /** Starts the work and returns (do not await the work itself here). */
  start(ctx: LeaderContext): Promise<void> | void;
  /** Stops the work and waits for what is in flight. */
  stop(): Promise<void>;
}

export type LeaderTaskEvent =
  | { type: 'gained'; token: number }
  | { type: 'lost'; reason: string }
  | { type: 'task-started'; task: string; token: number }
  | { type: 'task-stopped'; task: string }
  | { type: 'task-failed'; task: string; message: string }
  | { type: 'error'; message: string };

export interface LeaderTasksOptions {
  tasks: readonly LeaderTask[];
  /** Unique per process (default instanceId()): a restarted instance never reuses its predecessor's id. */
  holder?: string;
  /** Lease time: a dead leader is replaced within this (plus one renew interval). */
  leaseMs?: number;
  /** Renew / retry interval; default a third of leaseMs. */
  intervalMs?: number;
  /** Lease name (default "leader"). */
  name?: string;
  onEvent?: (event: LeaderTaskEvent) => void;
}

export interface LeaderTasks {
  readonly holder: string;
  readonly elector: LeaderElector;
  readonly isLeader: boolean;
  /** Names of the tasks running now (empty on followers). */
  readonly running: readonly string[];
  /** Stops the tasks and releases the lease so another instance takes over without waiting. */
  stop(): Promise<void>;
}

interface Term {
  token: number;
  controller: AbortController;
  started: LeaderTask[];
}

export async function startLeaderTasks(
  fleet: { repos: { leases: LeaseStore } },
  options: LeaderTasksOptions,
): Promise<LeaderTasks> {
  const leases = fleet.repos.leases;
  const clock: Clock = leases.clock;
  const name = options.name ?? LEADER_LEASE;
  const holder = options.holder ?? instanceId();
  const leaseMs = options.leaseMs ?? DEFAULT_LEADER_LEASE_MS;
  const emit = (event: LeaderTaskEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's bug must not stop the election.
    }
  };
  const elector = new LeaderElector({ leases, name, holder, ttlMs: leaseMs, intervalMs: options.intervalMs, clock });

  // Transitions run one after another, so a stop never overtakes the start it undoes.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((error) => emit({ type: 'error', message: (error as Error).message }));
    return chain;
  };
  let term: Term | null = null;
  let running: string[] = [];

  const stillLeader = async (token: number): Promise<boolean> => {
    const lease = elector.lease;
    if (!lease || lease.token !== token || clock() >= lease.expiresAt) return false;
    const row = await leases.current(name).catch(() => null);
    return row !== null && row.holder === holder && row.token === token;
  };

  const startTerm = async (token: number) => {
    const controller = new AbortController();
    const current: Term = { token, controller, started: [] };
    term = current;
    const ctx: LeaderContext = { token, signal: controller.signal, stillLeader: () => stillLeader(token) };
    for (const task of options.tasks) {
      if (controller.signal.aborted) break;
      try {
        await task.start(ctx);
        current.started.push(task);
        running = [...running, task.name];
        emit({ type: 'task-started', task: task.name, token });
      } catch (error) {
        emit({ type: 'task-failed', task: task.name, message: (error as Error).message });
      }
    }
  };

  const stopTerm = async () => {
    const current = term;
    if (!current) return;
    term = null;
    await Promise.all(
      current.started.map(async (task) => {
        try {
          await task.stop();
          emit({ type: 'task-stopped', task: task.name });
        } catch (error) {
          emit({ type: 'task-failed', task: task.name, message: (error as Error).message });
        }
        running = running.filter((n) => n !== task.name);
      }),
    );
  };

  /** The token we should be running under now: the elector's lease, if it has not run out locally. */
  const wanted = (): number | null => {
    const lease = elector.lease;
    return lease && clock() < lease.expiresAt ? lease.token : null;
  };
  let stopping = false;
  let pending = false;
  // Brings the running tasks in line with the lease. Called on every elector event and by the watchdog.
  const reconcile = (reason: string) => {
    const want = stopping ? null : wanted();
    // Abort now, not after the queue: tasks see the signal before their next write.
    if (term && term.token !== want) term.controller.abort(new Error(`leadership lost (${reason})`));
    if (pending) return;
    pending = true;
    void enqueue(async () => {
      pending = false;
      const now = stopping ? null : wanted();
      if (term && term.token !== now) {
        emit({ type: 'lost', reason });
        await stopTerm();
      }
      if (!term && now !== null) {
        emit({ type: 'gained', token: now });
        await startTerm(now);
      }
    });
  };

  elector.on('gained', () => reconcile('gained'));
  elector.on('lost', (reason) => reconcile(reason));
  elector.on('error', (error) => emit({ type: 'error', message: error.message }));

  // The elector notices a missed renew only on its next tick; a blocked event loop or a slow database
  // could let the lease run out before that. The watchdog stops the tasks as soon as the lease's
  // expiry has passed locally, whatever the elector thinks (and starts them again if a late renew landed).
  const watchdog = setInterval(
    () => {
      const lease = elector.lease;
      // A lease the elector dropped is reported by its own 'lost' event (with the reason); act on expiry only.
      if (term && lease && clock() >= lease.expiresAt) reconcile('expired');
      else if (!term && wanted() !== null) reconcile('renewed');
    },
    Math.max(10, Math.floor(elector.intervalMs / 2)),
  );
  watchdog.unref();

  await elector.start();
  await chain;

  return {
    holder,
    elector,
    get isLeader() {
      return elector.isLeader && term !== null;
    },
    get running() {
      return running;
    },
    async stop() {
      clearInterval(watchdog);
      stopping = true;
      reconcile('stopped');
      await chain;
      await elector.stop(); // releases the lease after the tasks stopped: no overlap with the next leader
      await chain;
    },
  };
}
