// One codex-fleet instance for the 3-instance failover test (test/scaling/failover.test.ts): opens a
// Fleet on the shared PostgreSQL database and starts the leader tasks (scheduled inspection, quota
// refresher, usage collector on a real Redis list). Every instance would serve the API; this one
// only runs the background part, which is what the test is about.
//   node test/support/leader-instance.ts '<json options>'
// Time: the Fleet runs on a fast clock (`speed` × real time from a shared origin, identical in every
// process), so a 1-minute inspection schedule gives a slot every 60/speed real seconds. The leader lease
// and the collector's queue lease use real time.
// SIGUSR2 arms a crash: the next collector batch SIGKILLs this process after the batch was popped and
// spooled but before it was committed (the worst moment for the usage data), never in the middle of a
// scheduled inspection run. SIGTERM stops gracefully and prints the collector's counters.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fleetLeaderTasks } from '../../src/core/background-tasks.ts';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { SCHEDULE_LEASE } from '../../src/core/inspection-scheduler.ts';
import { startLeaderTasks } from '../../src/core/leader-tasks.ts';
import { Collector, type CollectorStats } from '../../src/monitor/collector.ts';
import { RespSource } from '../../src/monitor/collectors/resp.ts';
import type { ParsedBatch } from '../../src/monitor/ingest.ts';
import { spoolPathFor } from '../../src/monitor/run.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import { LeaseStore } from '../../src/store/lease.ts';

interface InstanceOptions {
  url: string;
  holder: string;
  leaseMs: number;
  /** Shared clock origin: fake = originFake + (Date.now() - originReal) × speed. */
  originReal: number;
  originFake: number;
  speed: number;
  redisPort: number;
  /** Directory for the collector spool, shared by the instances (see docs/scaling.md). */
  spoolDir: string;
  accountDir: string;
}

const o = JSON.parse(process.argv[2]) as InstanceOptions;
const say = (event: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, holder: o.holder, at: Date.now(), ...extra })}\n`);

const clock = () => o.originFake + (Date.now() - o.originReal) * o.speed;
mkdirSync(o.accountDir, { recursive: true });
mkdirSync(o.spoolDir, { recursive: true });
const config = resolveConfig({ databaseUrl: o.url, dataDir: o.spoolDir, accountDir: o.accountDir }, {});
const fleet = await Fleet.open(config, clock);
const monitor = await createMonitorService({ db: fleet.repos.db });

// Scheduled runs in flight (the schedule lease is held exactly while one runs): a crash waits for none.
let inspecting = 0;
const leases = fleet.repos.leases;
const acquire = leases.acquire.bind(leases);
const release = leases.release.bind(leases);
leases.acquire = async (name, holder, ttl) => {
  const got = await acquire(name, holder, ttl);
  if (got && name === SCHEDULE_LEASE) inspecting++;
  return got;
};
leases.release = async (name, holder, token) => {
  if (name === SCHEDULE_LEASE) inspecting--;
  return release(name, holder, token);
};

let crashArmed = false;
process.on('SIGUSR2', () => {
  crashArmed = true;
  say('crash-armed');
});
// Every commit goes through one of these: a parsed batch (its commit starts once its pops are spooled
// and none is on the wire), or raw records replayed from the spool.
for (const method of ['ingestParsed', 'ingestRaw'] as const) {
  const original = monitor.ingest[method].bind(monitor.ingest) as (
    input: never,
  ) => ReturnType<typeof monitor.ingest.ingestRaw>;
  monitor.ingest[method] = async (input: never) => {
    if (crashArmed && inspecting === 0) {
      say('crashing', {
        batch: method === 'ingestRaw' ? (input as unknown[]).length : (input as ParsedBatch).received,
      });
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => {}); // never returns: the signal lands first
    }
    return original(input);
  };
}

const collectors: Collector[] = [];
const source = () => new RespSource({ host: '127.0.0.1', port: o.redisPort, queue: 'usage' });
const queueId = source().queueId;
const tasks = await startLeaderTasks(
  // The leader lease runs on real time (the Fleet's clock is the fast one).
  { repos: { leases: new LeaseStore(fleet.repos.db) } },
  {
    holder: o.holder,
    leaseMs: o.leaseMs,
    onEvent: (e) => say(e.type, e),
    tasks: fleetLeaderTasks(fleet, {
      inspectionPollMs: 100,
      onInspection: (runId) => say('inspection', { runId }),
      // Hourly on the fast clock: due at once on the first leader, not again within the test.
      refresh: {
        everyMs: 60 * 60_000,
        run: async () => {
          say('quota-refresh');
          await fleet.checkQuota({ tokenRefresh: 'allowed' });
        },
      },
      onError: (task, e) => say('task-error', { task, message: e.message }),
      collector: async () => {
        const c = new Collector({
          source: source(),
          ingest: monitor.ingest,
          leases: new LeaseStore(fleet.repos.db),
          spoolPath: spoolPathFor(o.spoolDir, queueId),
          holder: o.holder,
          popSize: 200,
          maxBatch: 1000,
          idleMs: 50,
          leaseTtlMs: o.leaseMs,
        });
        collectors.push(c);
        const started = await c.start();
        if (started.ok) say('collector-started', { replayed: started.replayed });
        return { started, done: started.ok ? c.run() : Promise.resolve(), stop: () => c.stop() };
      },
    }),
  },
);

process.on('SIGTERM', async () => {
  await tasks.stop();
  const totals: Partial<CollectorStats> = { popped: 0, inserted: 0, duplicates: 0, replayed: 0 };
  for (const c of collectors) {
    for (const k of ['popped', 'inserted', 'duplicates', 'replayed'] as const)
      totals[k] = (totals[k] ?? 0) + c.stats[k];
  }
  say('stopped', { collector: totals, spool: join(o.spoolDir) });
  await fleet.close();
  process.exit(0);
});

say('ready', { leader: tasks.isLeader });
