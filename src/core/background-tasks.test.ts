// The collector as a leader task, on both backends with a real Redis list: while another consumer holds
// the queue lease the leader's task is refused and keeps retrying; once that consumer stops, the task
// takes the queue over and drains it; stopping the leader releases the queue lease.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { type RedisServer, tryStartRedis } from '../../test/support/redis.ts';
import { waitFor } from '../../test/support/wait.ts';
import { Collector, leaseNameFor } from '../monitor/collector.ts';
import { RespSource } from '../monitor/collectors/resp.ts';
import { createMonitorService } from '../monitor/service.ts';
import type { Db } from '../store/db.ts';
import { LeaseStore } from '../store/lease.ts';
import { openStore } from '../store/open.ts';
import { collectorTask } from './background-tasks.ts';
import { startLeaderTasks } from './leader-tasks.ts';

const pgServer: PostgresServer | null = await startPostgres();
const redisStart = await tryStartRedis();
const redis: RedisServer | null = 'skip' in redisStart ? null : redisStart;
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-bg-tasks-'));
const opened: Db[] = [];
after(async () => {
  for (const db of opened) await db.close().catch(() => {});
  await redis?.stop();
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const backends = [
  { name: 'sqlite', skip: false as const, url: async () => `sqlite:${join(tmp, `db${++n}.db`)}` },
  {
    name: 'postgres',
    skip: pgServer === null ? 'PostgreSQL unavailable (see message above)' : (false as const),
    url: () => pgServer!.createDatabase('bg_tasks'),
  },
];

async function until(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await waitFor(pred, { what });
}

for (const backend of backends) {
  describe(`collector leader task on ${backend.name}`, { skip: backend.skip || (redis === null && 'no Redis') }, () => {
    it('waits for the queue lease, then takes the queue over; stopping releases it', async () => {
      const url = await backend.url();
      const [dbCli, dbLeader, dbCheck] = [
        await openStore({ databaseUrl: url }),
        await openStore({ databaseUrl: url }),
        await openStore({ databaseUrl: url }),
      ];
      opened.push(dbCli, dbLeader, dbCheck);
      const queue = `usage-${backend.name}`;
      const spoolPath = join(tmp, `spool-${backend.name}.jsonl`);
      const collectorFor = async (db: Db, holder: string) =>
        new Collector({
          source: new RespSource({ host: '127.0.0.1', port: redis!.port, queue }),
          ingest: (await createMonitorService({ db })).ingest,
          leases: new LeaseStore(db),
          spoolPath,
          holder,
          idleMs: 20,
          leaseTtlMs: 1000,
        });
      const client = redis!.client();
      const push = async (from: number, count: number) => {
        const recs = [...generateRecords(count, { seed: 3, start: Date.UTC(2026, 0, 1), stepMs: 5 }, from)];
        await client.rpush(queue, ...recs.map((r) => JSON.stringify(r)));
      };
      const stored = async () =>
        Number((await dbCheck.get<{ n: number }>('SELECT COUNT(DISTINCT request_id) AS n FROM mon_event'))?.n);

      // Someone else (say `codex-fleet monitor run` on another machine) consumes the queue first.
      const other = await collectorFor(dbCli, 'monitor-run');
      assert.equal((await other.start()).ok, true);
      await push(0, 300);
      while ((await other.runOnce()) > 0) {}

      const refusals: string[] = [];
      const leader = await startLeaderTasks(
        { repos: { leases: new LeaseStore(dbLeader) } },
        {
          holder: 'leader',
          leaseMs: 1000,
          tasks: [
            collectorTask({
              retryMs: 50,
              onRefused: (m) => refusals.push(m),
              open: async () => {
                const c = await collectorFor(dbLeader, 'leader');
                const started = await c.start();
                return { started, done: started.ok ? c.run() : Promise.resolve(), stop: () => c.stop() };
              },
            }),
          ],
        },
      );
      assert.equal(leader.isLeader, true);
      await until(() => refusals.length >= 2, 'the task to be refused and retry');
      assert.match(refusals[0], /monitor-run/, 'says who holds the queue');

      await other.stop(); // releases the queue lease
      await push(300, 300);
      await until(async () => (await stored()) === 600 && (await client.llen(queue)) === 0, 'the leader to drain');
      const leases = new LeaseStore(dbCheck);
      const queueLease = leaseNameFor(`resp://127.0.0.1:${redis!.port}/${queue}`);
      assert.equal((await leases.current(queueLease))?.holder, 'leader');

      await leader.stop();
      assert.equal(await leases.current(queueLease), null, 'the queue lease is released with leadership');
      assert.equal(await leases.current('leader'), null);
      const total = await dbCheck.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event');
      assert.equal(Number(total?.n), 600, 'nothing stored twice');
    });
  });
}
