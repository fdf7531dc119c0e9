// Issue 9: three real codex-fleet instances (child processes, test/support/leader-instance.ts) on one
// PostgreSQL database run the leader tasks: scheduled inspections every minute (on a 15× clock: a slot
// every 4 s), the quota refresher, and a usage collector draining a real Redis list while this test
// pushes records. The leader is SIGKILLed in the middle of a collector batch (popped and spooled, not
// committed). Checks: one other instance takes over after the lease ran out (token +1, no overlap);
// exactly one inspection run per schedule slot, no slot missed; the hourly quota refresh not repeated
// by the new leader; every usage record stored exactly once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { saveSchedule } from '../../src/core/inspection-scheduler.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import { type RedisServer, tryStartRedis } from '../support/redis.ts';
import { pace, waitFor as waitUntil } from '../support/wait.ts';

const pgServer: PostgresServer | null = await startPostgres();
const redisStart = await tryStartRedis();
const redis: RedisServer | null = 'skip' in redisStart ? null : redisStart;
const skip =
  pgServer === null
    ? 'PostgreSQL unavailable (see message above)'
    : redis === null
      ? 'redis-server unavailable (see message above)'
      : false;
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-failover-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Line {
  event: string;
  holder: string;
  at: number;
  token?: number;
  runId?: string;
  replayed?: number;
  collector?: { popped: number; inserted: number; duplicates: number; replayed: number };
}

const LEASE_MS = 2000;
const SPEED = 15; // 1 real second = 15 s on the Fleet's clock: a 1-minute slot every 4 real seconds
const SLOT_MS = 60_000;
const TOTAL = 10_000;
const HOLDERS = ['inst-a', 'inst-b', 'inst-c'];

describe('3 instances on one PostgreSQL: leader failover', { skip }, () => {
  it('kill -9 the leader mid-batch: one takeover, one inspection per slot, no usage record lost or doubled', async () => {
    const url = await pgServer!.createDatabase('failover');
    const originReal = Date.now();
    const originFake = Math.ceil(originReal / SLOT_MS) * SLOT_MS + SLOT_MS / 2; // mid-slot: no boundary at start
    const clock = () => originFake + (Date.now() - originReal) * SPEED;
    const accountDir = join(tmp, 'account');
    mkdirSync(accountDir); // no local accounts: an empty directory, not a missing one (that is an error)
    const fleet = await Fleet.open(
      resolveConfig({ databaseUrl: url, dataDir: join(tmp, 'data'), accountDir }, {}),
      clock,
    );
    const db = fleet.repos.db;
    await saveSchedule(fleet, { mode: 'interval', intervalMinutes: 1 });

    const lines: Line[] = [];
    const phases: string[] = [];
    const t0 = Date.now();
    const phase = (name: string) => phases.push(`${name} +${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const waitFor = (pred: () => boolean | Promise<boolean>, what: string) =>
      waitUntil(async () => ({ ok: await pred(), seen: lines.slice(-30) }), {
        what,
        timeoutMs: 60_000,
        intervalMs: 50,
      });
    const spoolDir = join(tmp, 'spool');
    for (const holder of HOLDERS) {
      const options = {
        url,
        holder,
        leaseMs: LEASE_MS,
        originReal,
        originFake,
        speed: SPEED,
        redisPort: redis!.port,
        spoolDir,
        accountDir,
      };
      const child = spawn(process.execPath, ['test/support/leader-instance.ts', JSON.stringify(options)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(JSON.parse(line) as Line);
      });
    }
    const events = (name: string) => lines.filter((l) => l.event === name);

    // The test is the proxy: it pushes usage records into the list while the instances run.
    const client = redis!.client();
    const records = [...generateRecords(TOTAL, { seed: 9, start: Date.UTC(2026, 10, 23), stepMs: 10 })].map((r) =>
      JSON.stringify(r),
    );
    let pushed = 0;
    const pushSome = async (upTo: number) => {
      while (pushed < upTo) {
        const chunk = records.slice(pushed, Math.min(upTo, pushed + 500));
        await client.rpush('usage', ...chunk);
        pushed += chunk.length;
        await pace(20); // a proxy's steady flow, so the kill lands mid-batch
      }
    };
    const stored = async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event'))?.n ?? 0);
    const inspections = () => events('inspection').length;

    await waitFor(() => events('ready').length === 3 && events('gained').length >= 1, 'three instances and a leader');
    const first = events('gained')[0];
    phase('leader');
    await pushSome(TOTAL / 2);
    await waitFor(async () => inspections() >= 1 && (await stored()) >= TOTAL / 4, 'inspections and stored events');
    assert.equal(events('gained').length, 1, 'one leader while it lives');
    phase('kill');

    // Kill the leader in the middle of a batch: more records keep flowing so a batch is certain to come.
    const leader = children[HOLDERS.indexOf(first.holder)];
    const died = new Promise<string | null>((r) => leader.once('exit', (_code, signal) => r(signal)));
    leader.kill('SIGUSR2');
    const pushing = pushSome(TOTAL);
    assert.equal(await died, 'SIGKILL');
    const crash = events('crashing').find((l) => l.holder === first.holder);
    assert.ok(crash, 'the leader died at the armed point (batch spooled, not committed)');
    const runsBefore = inspections();

    await waitFor(() => events('gained').length >= 2, 'a new leader');
    const second = events('gained')[1];
    phase('takeover');
    await pushing;
    await waitFor(async () => (await stored()) >= TOTAL && (await client.llen('usage')) === 0, 'every record stored');
    phase('drained');
    await waitFor(() => inspections() >= runsBefore + 2, 'two more scheduled runs on the new leader');
    phase('runs');

    // Graceful stop of the two survivors; they print their collector counters.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await waitFor(() => events('stopped').length === 2, 'the survivors to stop');

    // Leadership: exactly one takeover, by another instance, with the next fencing token.
    const gains = events('gained');
    assert.equal(gains.length, 2, `exactly one takeover: ${JSON.stringify(gains)}`);
    assert.notEqual(second.holder, first.holder);
    assert.equal(second.token, first.token! + 1);
    const takeoverMs = second.at - crash.at;

    // Usage: every pushed request id stored exactly once; the dead leader's spooled batch was replayed.
    const counts = await db.get<{ n: number; d: number }>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
    );
    assert.equal(Number(counts?.n), TOTAL, 'no record lost, none doubled');
    assert.equal(Number(counts?.d), TOTAL);
    const ids = new Set(
      (await db.query<{ request_id: string }>('SELECT request_id FROM mon_event')).map((r) => r.request_id),
    );
    for (let k = 0; k < TOTAL; k++) assert.ok(ids.has(`req-9-${k}`), `req-9-${k} stored`);
    const survivor = events('stopped').find((l) => l.holder === second.holder)!;
    assert.ok(
      survivor.collector!.replayed > 0,
      `the new leader replayed the spooled batch: ${JSON.stringify(survivor)}`,
    );

    // Inspections: one run per slot, and every slot from the first to the last has its run.
    const runs = await db.query<{ log: string; status: string; trigger: string }>(
      "SELECT log, status, trigger FROM inspection_runs WHERE trigger = 'schedule'",
    );
    const slots = runs.map((r) => Number(/by schedule:(\d+)/.exec(r.log)?.[1]));
    assert.ok(
      slots.every((s) => Number.isFinite(s) && s % SLOT_MS === 0),
      JSON.stringify(runs.map((r) => r.log)),
    );
    assert.equal(new Set(slots).size, slots.length, `one run per slot: ${slots.join(',')}`);
    slots.sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) assert.equal(slots[i] - slots[i - 1], SLOT_MS, `no slot missed: ${slots}`);
    assert.ok(
      runs.every((r) => r.status === 'done'),
      'no run was cut off',
    );
    // The hourly quota refresh ran once, on the first leader; the new leader saw its shared last-run time.
    assert.deepEqual(
      events('quota-refresh').map((l) => l.holder),
      [first.holder],
    );
    const holders = new Set(events('inspection').map((l) => l.holder));
    assert.deepEqual([...holders].sort(), [first.holder, second.holder].sort(), 'runs came from the two leaders');

    console.error(
      `failover: leader ${first.holder} killed mid-batch (${crash ? 'spooled, uncommitted' : '?'}), ` +
        `${second.holder} took over ${takeoverMs} ms later (lease ${LEASE_MS} ms); ` +
        `${slots.length} slots, ${TOTAL} records stored once, ${survivor.collector!.replayed} replayed from the spool; ${phases.join(', ')}`,
    );
    await fleet.close();
  });
});
