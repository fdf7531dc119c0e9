// Leader tasks on both backends, several electors in one process over real connections: only the lease
// holder runs tasks, a lost lease stops them at once, every fenced write carries the live token, and a
// periodic step is not repeated by the next leader.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { Db } from '../store/db.ts';
import { LeaseStore } from '../store/lease.ts';
import { openStore } from '../store/open.ts';
import { SettingsRepo } from '../store/settings-repo.ts';
import { periodicTask } from './background-tasks.ts';
import { type LeaderContext, type LeaderTask, type LeaderTasks, startLeaderTasks } from './leader-tasks.ts';

const pgServer: PostgresServer | null = await startPostgres();
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-leader-tasks-'));
const opened: Db[] = [];
const handles: LeaderTasks[] = [];
after(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  for (const db of opened) await db.close().catch(() => {});
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const backends = [
  {
    name: 'sqlite',
    skip: false as const,
    /** Opens `count` separate connections to one new database, one per "instance". */
    async connect(count: number): Promise<Db[]> {
      const file = join(tmp, `db${++n}.db`);
      const dbs: Db[] = [];
      for (let i = 0; i < count; i++) dbs.push(await openStore({ databaseUrl: `sqlite:${file}` }));
      opened.push(...dbs);
      return dbs;
    },
  },
  {
    name: 'postgres',
    skip: pgServer === null ? 'PostgreSQL unavailable (see message above)' : (false as const),
    async connect(count: number): Promise<Db[]> {
      const url = await pgServer!.createDatabase('leader_tasks');
      const dbs: Db[] = [];
      for (let i = 0; i < count; i++) dbs.push(await openStore({ databaseUrl: url }));
      opened.push(...dbs);
      return dbs;
    },
  },
];

const fleetOn = (db: Db, clock: () => number = Date.now) => ({ repos: { leases: new LeaseStore(db, clock) } });

/** A task that records its life in a journal shared by all instances of the test (in call order). */
function journalTask(name: string, instance: string, journal: string[], seen: LeaderContext[]): LeaderTask {
  return {
    name,
    start(ctx) {
      seen.push(ctx);
      journal.push(`${instance}:${name}:start:${ctx.token}`);
    },
    async stop() {
      journal.push(`${instance}:${name}:stop`);
    },
  };
}

async function until(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await waitFor(pred, { what });
}

for (const backend of backends) {
  describe(`leader tasks on ${backend.name}`, { skip: backend.skip }, () => {
    it('only the lease holder runs the tasks; stopping hands them over without overlap', async () => {
      const [dbA, dbB] = await backend.connect(2);
      const journal: string[] = [];
      const ctxA: LeaderContext[] = [];
      const ctxB: LeaderContext[] = [];
      const a = await startLeaderTasks(fleetOn(dbA), {
        holder: 'A',
        leaseMs: 1000,
        tasks: [journalTask('t1', 'A', journal, ctxA), journalTask('t2', 'A', journal, ctxA)],
      });
      handles.push(a);
      const b = await startLeaderTasks(fleetOn(dbB), {
        holder: 'B',
        leaseMs: 1000,
        tasks: [journalTask('t1', 'B', journal, ctxB), journalTask('t2', 'B', journal, ctxB)],
      });
      handles.push(b);
      assert.equal(a.isLeader, true);
      assert.deepEqual(a.running, ['t1', 't2']);
      assert.equal(b.isLeader, false);
      assert.deepEqual(b.running, []);
      assert.equal(await ctxA[0].stillLeader(), true);

      await a.stop();
      assert.equal(ctxA[0].signal.aborted, true);
      assert.equal(await ctxA[0].stillLeader(), false);
      await until(() => b.isLeader && b.running.length === 2, 'B to take over');
      assert.deepEqual(journal.slice(0, 4), ['A:t1:start:1', 'A:t2:start:1', 'A:t1:stop', 'A:t2:stop']);
      assert.deepEqual(journal.slice(4), ['B:t1:start:2', 'B:t2:start:2'], 'B starts after A stopped, token 2');
      assert.equal(await ctxB[0].stillLeader(), true);
      await b.stop();
    });

    it('a lease taken away stops the tasks at once; stillLeader() is false before the next renew', async () => {
      const [db] = await backend.connect(1);
      const journal: string[] = [];
      const ctx: LeaderContext[] = [];
      const events: string[] = [];
      const a = await startLeaderTasks(fleetOn(db), {
        holder: 'A',
        leaseMs: 3000,
        intervalMs: 1000,
        tasks: [journalTask('t', 'A', journal, ctx)],
        onEvent: (e) => events.push(e.type === 'lost' ? `lost:${e.reason}` : e.type),
      });
      handles.push(a);
      assert.equal(a.isLeader, true);
      // Another instance takes the lease over (as after a long pause of this one): the token moves on.
      await db.run("UPDATE leases SET holder = 'intruder', token = token + 1 WHERE name = 'leader'");
      assert.equal(await ctx[0].stillLeader(), false, 'the fence sees the new holder before any tick');
      await until(() => journal.includes('A:t:stop'), 'the task to stop');
      assert.equal(ctx[0].signal.aborted, true);
      assert.equal(a.isLeader, false);
      assert.ok(events.includes('lost:taken'), JSON.stringify(events));
      await a.stop();
    });

    it('a lease that runs out without a renew (clock jump, stalled loop) stops the tasks', async () => {
      const [db] = await backend.connect(1);
      let offset = 0;
      const clock = () => Date.now() + offset;
      const journal: string[] = [];
      const ctx: LeaderContext[] = [];
      const a = await startLeaderTasks(fleetOn(db, clock), {
        holder: 'A',
        leaseMs: 60_000,
        intervalMs: 2_000,
        tasks: [journalTask('t', 'A', journal, ctx)],
      });
      handles.push(a);
      assert.equal(a.isLeader, true);
      offset = 120_000; // the lease expired locally long before the elector's next tick
      await until(() => journal.includes('A:t:stop'), 'the watchdog to stop the task');
      assert.equal(ctx[0].signal.aborted, true);
      assert.equal(await ctx[0].stillLeader(), false);
      await a.stop();
    });

    it('fenced periodic writes: every row carries the token live at the time; the next leader does not repeat a step', async () => {
      const [dbA, dbB, dbCheck] = await backend.connect(3);
      await dbCheck.exec(
        'CREATE TABLE periodic_runs (holder TEXT NOT NULL, token BIGINT NOT NULL, at BIGINT NOT NULL)',
      );
      const everyMs = 400;
      const make = (holder: string, db: Db) => {
        const settings = new SettingsRepo(db);
        return periodicTask({
          name: 'refresh',
          everyMs,
          lastRun: {
            get: async () => (await settings.get<number>('test.refresh.lastRun')) ?? null,
            set: (at) => settings.set('test.refresh.lastRun', at),
          },
          step: async (ctx) => {
            await db.run('INSERT INTO periodic_runs (holder, token, at) VALUES (?, ?, ?)', [
              holder,
              ctx.token,
              Date.now(),
            ]);
          },
        });
      };
      const a = await startLeaderTasks(fleetOn(dbA), { holder: 'A', leaseMs: 1000, tasks: [make('A', dbA)] });
      handles.push(a);
      const b = await startLeaderTasks(fleetOn(dbB), { holder: 'B', leaseMs: 1000, tasks: [make('B', dbB)] });
      handles.push(b);
      const count = async () =>
        Number((await dbCheck.get<{ n: number }>('SELECT COUNT(*) AS n FROM periodic_runs'))?.n);
      await until(async () => (await count()) >= 3, 'three runs on A');
      await a.stop();
      const lastOnA = Number(await new SettingsRepo(dbCheck).get<number>('test.refresh.lastRun'));
      await until(() => b.isLeader, 'B to lead');
      await until(async () => (await count()) >= 5, 'runs on B');
      await b.stop();
      const rows = await dbCheck.query<{ holder: string; token: number; at: number }>(
        'SELECT holder, token, at FROM periodic_runs ORDER BY at',
      );
      for (const r of rows) assert.equal(Number(r.token), r.holder === 'A' ? 1 : 2, JSON.stringify(r));
      const firstB = rows.findIndex((r) => r.holder === 'B');
      assert.ok(firstB > 0 && rows.slice(firstB).every((r) => r.holder === 'B'), 'A never ran after B took over');
      // B waited for the shared last-run time instead of running at once on taking over.
      assert.ok(Number(rows[firstB].at) >= lastOnA + everyMs, JSON.stringify({ lastOnA, rows }));
    });

    it('a task whose start fails does not keep the others from running', async () => {
      const [db] = await backend.connect(1);
      const journal: string[] = [];
      const failures: string[] = [];
      const a = await startLeaderTasks(fleetOn(db), {
        holder: 'A',
        leaseMs: 1000,
        tasks: [
          {
            name: 'broken',
            start() {
              throw new Error('cannot start');
            },
            async stop() {},
          },
          journalTask('ok', 'A', journal, []),
        ],
        onEvent: (e) => {
          if (e.type === 'task-failed') failures.push(`${e.task}: ${e.message}`);
        },
      });
      handles.push(a);
      assert.deepEqual(a.running, ['ok']);
      assert.deepEqual(failures, ['broken: cannot start']);
      await a.stop();
      assert.deepEqual(journal, ['A:ok:start:1', 'A:ok:stop']);
    });
  });
}
