// The three kinds of leader-only background work, as LeaderTasks: scheduled inspections, a periodic
// job (the quota refresher), and the usage collector. Each checks the fencing token before it writes.

import { InspectionScheduler, type SchedulerOptions } from '../core/inspection-scheduler.ts';
import type { StartResult } from '../monitor/collector.ts';
import type { Fleet } from './fleet.ts';
import type { LeaderContext, LeaderTask } from './leader-tasks.ts';
import { abortableSleep } from './shutdown.ts';

const sleep = (ms: number, signal: AbortSignal) => abortableSleep(signal)(ms);

/**
 * Runs `step` every `everyMs` while leader, each time only after stillLeader() confirmed the lease.
 * Errors of one step go to onError and never end the loop.
 */
export function periodicTask(o: {
  name: string;
  everyMs: number;
  step: (ctx: LeaderContext) => Promise<unknown>;
  /** Run once right after becoming leader (default false: wait everyMs first). */
  runAtStart?: boolean;
  /** When the last step ran, kept across instances so a new leader does not repeat a step just done. */
  lastRun?: { get(): Promise<number | null>; set(at: number): Promise<void> };
  clock?: () => number;
  onError?: (error: Error) => void;
}): LeaderTask {
  if (!(o.everyMs > 0)) throw new Error(`${o.name}: everyMs must be positive`);
  const clock = o.clock ?? Date.now;
  let loop: Promise<void> | null = null;
  let controller: AbortController | null = null;
  return {
    name: o.name,
    start(ctx) {
      controller = new AbortController();
      const signal = AbortSignal.any([ctx.signal, controller.signal]);
      loop = (async () => {
        let first = true;
        while (!signal.aborted) {
          let wait = first && o.runAtStart ? 0 : o.everyMs;
          if (o.lastRun) {
            // Shared memory wins: a step never run anywhere runs now, else when the last one is everyMs old.
            const last = await o.lastRun.get().catch(() => null);
            wait = last == null ? 0 : Math.max(0, last + o.everyMs - clock());
          }
          first = false;
          await sleep(wait, signal);
          if (signal.aborted) break;
          try {
            // Not (or no longer provably) the leader: skip this step. A real loss aborts the signal.
            if (!(await ctx.stillLeader())) {
              await sleep(Math.min(o.everyMs, 1_000), signal);
              continue;
            }
            if (o.lastRun) {
              const last = await o.lastRun.get();
              if (last != null && clock() - last < o.everyMs) continue; // another instance just ran it
              await o.lastRun.set(clock());
            }
            await o.step(ctx);
          } catch (error) {
            o.onError?.(error as Error);
            await sleep(Math.min(o.everyMs, 5_000), signal);
          }
        }
      })();
    },
    async stop() {
      controller?.abort();
      await loop;
      loop = null;
    },
  };
}

/**
 * Scheduled inspections. The scheduler's own slot claim (a lease plus the stored last slot) already
 * makes one run per slot; here its tick is driven by this task so every tick is fenced by the leader
 * lease too. A new InspectionScheduler per term: its start() fails runs a dead process left running.
 */
export function inspectionTask(fleet: Fleet, o: SchedulerOptions & { pollMs?: number } = {}): LeaderTask {
  const pollMs = o.pollMs ?? 30_000;
  let scheduler: InspectionScheduler | null = null;
  let inner: LeaderTask | null = null;
  return {
    name: 'inspection-schedule',
    async start(ctx) {
      // The scheduler's own timer never fires (unref'd, ~24 days): this task drives tick().
      scheduler = new InspectionScheduler(fleet, { ...o, pollMs: 2 ** 31 - 1 });
      await scheduler.start();
      const s = scheduler;
      inner = periodicTask({
        name: 'inspection-schedule',
        everyMs: pollMs,
        runAtStart: true,
        step: async () => {
          const id = await s.tick();
          return id;
        },
        onError: o.onError,
      });
      await inner.start(ctx);
    },
    async stop() {
      await inner?.stop();
      await scheduler?.stop();
      inner = null;
      scheduler = null;
    },
  };
}

/** What `startCollector()` (src/monitor/run.ts) returns, as far as this task needs it. */
export interface CollectorRun {
  started: StartResult;
  /** Settles when the loop ends (stopped, lost the queue lease, rejected key). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The usage collector. Its queue lease may still be held for a moment by the previous leader (until it
 * expires), so the task retries until it gets it; when the loop ends while we still lead (lost queue
 * lease, network), it opens a fresh collector. The collector renews its queue lease before every pop
 * and stops popping when that fails: that is its fence.
 */
export function collectorTask(o: {
  open: () => Promise<CollectorRun>;
  /** Wait between attempts while the queue lease is held elsewhere. */
  retryMs?: number;
  onRefused?: (message: string) => void;
  onError?: (error: Error) => void;
}): LeaderTask {
  const retryMs = o.retryMs ?? 1_000;
  let loop: Promise<void> | null = null;
  let controller: AbortController | null = null;
  let current: CollectorRun | null = null;
  return {
    name: 'usage-collector',
    start(ctx) {
      controller = new AbortController();
      const signal = AbortSignal.any([ctx.signal, controller.signal]);
      const stopCurrent = () => {
        current?.stop().catch(() => {});
      };
      signal.addEventListener('abort', stopCurrent, { once: true });
      loop = (async () => {
        while (!signal.aborted) {
          try {
            if (!(await ctx.stillLeader())) {
              await sleep(retryMs, signal);
              continue;
            }
            const run = await o.open();
            current = run;
            if (signal.aborted) break;
            if (!run.started.ok) {
              o.onRefused?.(run.started.message);
              await run.stop();
              current = null;
              await sleep(retryMs, signal);
              continue;
            }
            await run.done;
          } catch (error) {
            o.onError?.(error as Error);
          }
          await current?.stop().catch(() => {});
          current = null;
          await sleep(retryMs, signal);
        }
        await current?.stop().catch(() => {});
        current = null;
      })();
    },
    async stop() {
      controller?.abort();
      await loop;
      loop = null;
    },
  };
}

export const QUOTA_REFRESH_LAST_RUN = 'leader.quotaRefresh.lastRun';

export interface FleetLeaderTaskOptions {
  /** How often to look for a due inspection slot (default 30 s). */
  inspectionPollMs?: number;
  /** After each scheduled inspection run (the server pushes an SSE event). */
  onInspection?: (runId: string) => void;
  /** The periodic quota refresh (`serve --interval-seconds`); absent or everyMs 0: none. */
  refresh?: { everyMs: number; run: () => Promise<unknown> };
  /** Opens the usage collector, e.g. `() => startCollector({...})` from src/monitor/run.ts; absent: none. */
  collector?: () => Promise<CollectorRun>;
  onError?: (task: string, error: Error) => void;
}

/** The standard leader-only work of `serve`, for startLeaderTasks(fleet, { tasks: fleetLeaderTasks(...) }). */
export function fleetLeaderTasks(fleet: Fleet, o: FleetLeaderTaskOptions = {}): LeaderTask[] {
  const tasks: LeaderTask[] = [
    inspectionTask(fleet, {
      pollMs: o.inspectionPollMs,
      onRun: o.onInspection,
      onError: (e) => o.onError?.('inspection-schedule', e),
    }),
  ];
  if (o.refresh && o.refresh.everyMs > 0) {
    const settings = fleet.repos.settings;
    const refresh = o.refresh;
    tasks.push(
      periodicTask({
        name: 'quota-refresh',
        everyMs: refresh.everyMs,
        clock: fleet.clock,
        // Shared across instances: a new leader does not refresh again right after the old one did.
        lastRun: {
          get: async () => (await settings.get<number>(QUOTA_REFRESH_LAST_RUN)) ?? null,
          set: (at) => settings.set(QUOTA_REFRESH_LAST_RUN, at),
        },
        step: () => refresh.run(),
        onError: (e) => o.onError?.('quota-refresh', e),
      }),
    );
  }
  if (o.collector) {
    tasks.push(
      collectorTask({
        open: o.collector,
        onError: (e) => o.onError?.('usage-collector', e),
      }),
    );
  }
  return tasks;
}
