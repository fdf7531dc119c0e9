// The worker loop for scheduled inspections. Every instance runs it; a database lease plus a stored
// "last slot done" make exactly one run happen per slot, even with several processes. Changed settings
// are picked up within `pollMs` (30 s). Runs a crashed process left `running` are failed at start.

import { RunsRepo } from '../inspect/runs-repo.ts';
import { currentSlot, DEFAULT_SCHEDULE, SCHEDULE_SETTING, type Schedule, scheduleSchema } from '../inspect/schedule.ts';
import type { Fleet } from './fleet.ts';
import { PROCESS_HOLDER, runInspection } from './inspection-run.ts';

export const SCHEDULE_LEASE = 'inspection.schedule';
const LAST_SLOT_SETTING = 'inspection.schedule.lastSlot';
const LEASE_TTL_MS = 15 * 60_000;

export interface SchedulerOptions {
  pollMs?: number;
  holder?: string;
  /** Called after each scheduled run (the server pushes an SSE event). */
  onRun?: (runId: string) => void;
  onError?: (error: Error) => void;
}

export async function readSchedule(fleet: Fleet): Promise<Schedule> {
  const stored = await fleet.repos.settings.get(SCHEDULE_SETTING);
  const parsed = scheduleSchema.safeParse(stored ?? DEFAULT_SCHEDULE);
  return parsed.success ? parsed.data : DEFAULT_SCHEDULE;
}

export class InspectionScheduler {
  readonly #fleet: Fleet;
  readonly #options: Required<Pick<SchedulerOptions, 'pollMs' | 'holder'>> & SchedulerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(fleet: Fleet, options: SchedulerOptions = {}) {
    this.#fleet = fleet;
    this.#options = { pollMs: 30_000, holder: PROCESS_HOLDER, ...options };
  }

  async start(): Promise<void> {
    const runs = new RunsRepo(this.#fleet.repos.db, this.#fleet.clock);
    const holderPid = (h: string | null) => Number(h?.split(':').pop());
    await runs.failOrphans((holder) => {
      if (!holder) return false;
      if (holder === this.#options.holder) return false;
      // Another live process on this host still holds its run; other hosts' runs expire with the lease.
      const pid = holderPid(holder);
      if (holder.startsWith(`${PROCESS_HOLDER.split(':')[0]}:`) && Number.isFinite(pid)) {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      }
      return true;
    });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch((e) => this.#options.onError?.(e as Error))
        .finally(() => {
          this.#running = null;
          this.#schedule();
        });
    }, this.#options.pollMs);
    this.#timer.unref();
  }

  /** One look: is a slot due that nobody ran yet? If so, claim it and run. Returns the run id or null. */
  async tick(): Promise<string | null> {
    const fleet = this.#fleet;
    const schedule = await readSchedule(fleet);
    const slot = currentSlot(schedule, fleet.clock());
    if (slot == null) return null;
    const lastDone = Number((await fleet.repos.settings.get<number>(LAST_SLOT_SETTING)) ?? 0);
    if (lastDone >= slot) return null;
    // A slot set before the schedule existed is not "missed": only run slots after the change.
    const changedAt = Number((await fleet.repos.settings.get<number>(`${SCHEDULE_SETTING}.changedAt`)) ?? 0);
    if (slot < changedAt) return null;
    const lease = await fleet.repos.leases.acquire(SCHEDULE_LEASE, this.#options.holder, LEASE_TTL_MS);
    if (!lease) return null;
    try {
      // Re-check under the lease: another instance may have run this slot while we waited.
      const doneNow = Number((await fleet.repos.settings.get<number>(LAST_SLOT_SETTING)) ?? 0);
      if (doneNow >= slot) return null;
      await fleet.repos.settings.set(LAST_SLOT_SETTING, slot);
      const outcome = await runInspection(fleet, { trigger: 'schedule', actor: `schedule:${slot}` });
      await new RunsRepo(fleet.repos.db, fleet.clock).prune(schedule.retentionDays * 24 * 3600_000);
      this.#options.onRun?.(outcome.run.id);
      return outcome.run.id;
    } finally {
      await fleet.repos.leases.release(SCHEDULE_LEASE, this.#options.holder, lease.token);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}

export async function saveSchedule(fleet: Fleet, input: unknown): Promise<Schedule> {
  const parsed = scheduleSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid schedule: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  await fleet.repos.settings.set(SCHEDULE_SETTING, parsed.data);
  await fleet.repos.settings.set(`${SCHEDULE_SETTING}.changedAt`, fleet.clock());
  return parsed.data;
}
