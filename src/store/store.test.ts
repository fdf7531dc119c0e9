// One store suite, run against both backends: SQLite (temp file) and a real PostgreSQL server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { ProbeResult } from '../domain/quota.ts';
import { type AccountInput, AccountsRepo } from './accounts-repo.ts';
import type { Db, Migration } from './db.ts';
import { createRepos } from './index.ts';
import { LeaderElector, type Timers } from './leader.ts';
import { LeaseStore } from './lease.ts';
import { appliedVersions, migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { openStore } from './open.ts';
import { probeFromSnapshot } from './snapshots-repo.ts';

// One server for the whole file (a fresh database per suite); null means skipped, loudly.
const pgServer: PostgresServer | null = await startPostgres();
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-store-'));
after(async () => {
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let fileNo = 0;
type Opener = (name: string) => Promise<Db>;
const backends: Array<{ name: string; open: Opener; skip: () => boolean }> = [
  {
    name: 'sqlite',
    open: async () => openStore({ dataDir: join(tmp, `db${++fileNo}`) }),
    skip: () => false,
  },
  {
    name: 'postgres',
    open: async (name) => openStore({ databaseUrl: await pgServer!.createDatabase(name) }),
    skip: () => pgServer === null,
  },
];

function account(id: string, extra: Partial<AccountInput> = {}): AccountInput {
  return {
    id,
    name: `name-${id}`,
    email: `${id}@example.com`,
    plan: 'plus',
    accountId: `acct-${id}`,
    userId: null,
    format: 'cpa',
    sourceKind: 'auth-dir',
    sourcePath: `/auth/codex-${id}.json`,
    sourceIndex: null,
    disabled: false,
    addedAt: 1_700_000_000_000,
    lastUsed: null,
    ...extra,
  };
}

function probe(fetchedAt: number, extra: Partial<ProbeResult> = {}): ProbeResult {
  const iso = new Date(fetchedAt).toISOString();
  return {
    state: 'ok',
    reason: 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: null,
    snapshot: {
      plan: 'plus',
      allowed: true,
      limitReached: false,
      rateLimitReachedType: null,
      windows: [
        {
          kind: '5h',
          scope: 'primary',
          limitName: null,
          usedPercent: 12,
          remainingPercent: 88,
          windowSeconds: 18000,
          resetAfterSeconds: 3600,
          resetsAt: new Date(fetchedAt + 3_600_000).toISOString(),
        },
      ],
      credits: { hasCredits: false, unlimited: false, balance: '0' },
      fetchedAt: iso,
    },
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: iso,
    attempts: 1,
    usagePath: '/wham/usage',
    ...extra,
  };
}

const transientProbe = (at: number): ProbeResult =>
  probe(at, {
    state: 'unknown',
    reason: 'cloudflare_challenge',
    httpStatus: 403,
    snapshot: null,
    transient: true,
  });

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    let db: Db;
    let now = 1_800_000_000_000;
    const clock = () => now;
    before(async () => {
      if (!backend.skip()) db = await backend.open('store');
    });
    after(async () => {
      await db?.close();
    });
    const test = (name: string, fn: () => Promise<void>) =>
      it(name, { skip: backend.skip() ? 'PostgreSQL unavailable (see message above)' : false }, fn);

    describe('Db', () => {
      test('query, get and run with ? placeholders; ? inside a string literal stays literal', async () => {
        await db.exec('CREATE TABLE t_basic (k TEXT PRIMARY KEY, v BIGINT, d DOUBLE PRECISION)');
        const r = await db.run('INSERT INTO t_basic (k, v, d) VALUES (?, ?, ?), (?, ?, ?)', [
          'a',
          1,
          1.5,
          'b?',
          1_800_000_000_123,
          null,
        ]);
        assert.equal(r.changes, 2);
        const rows = await db.query<{ k: string; v: number; d: number | null }>(
          "SELECT k, v, d FROM t_basic WHERE k <> '?' AND v >= ? ORDER BY k",
          [0],
        );
        assert.deepEqual(
          rows.map((x) => ({ ...x })),
          [
            { k: 'a', v: 1, d: 1.5 },
            { k: 'b?', v: 1_800_000_000_123, d: null },
          ],
        );
        const count = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t_basic');
        assert.equal(count?.n, 2, 'COUNT(*) comes back as a number on both backends');
        const agg = await db.get<{ s: number; a: number }>('SELECT SUM(v) AS s, AVG(v) AS a FROM t_basic');
        assert.deepEqual({ ...agg }, { s: 1_800_000_000_124, a: 900_000_000_062 }, 'SUM and AVG are numbers too');
        assert.equal(await db.get('SELECT k FROM t_basic WHERE k = ?', ['none']), undefined);
      });

      test('a transaction commits, and rolls back everything when fn throws', async () => {
        await db.exec('CREATE TABLE t_tx (id INTEGER PRIMARY KEY, v TEXT)');
        await db.transaction(async (tx) => {
          await tx.run('INSERT INTO t_tx (id, v) VALUES (?, ?)', [1, 'kept']);
        });
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.run('INSERT INTO t_tx (id, v) VALUES (?, ?)', [2, 'gone']);
            await tx.transaction(async (inner) => {
              await inner.run('INSERT INTO t_tx (id, v) VALUES (?, ?)', [3, 'gone too']);
            });
            throw new Error('boom');
          }),
          /boom/,
        );
        const rows = await db.query<{ id: number }>('SELECT id FROM t_tx ORDER BY id');
        assert.deepEqual(
          rows.map((r) => Number(r.id)),
          [1],
        );
      });

      test('concurrent transactions do not interleave (read-modify-write loses nothing)', async () => {
        await db.exec('CREATE TABLE t_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
        await db.run('INSERT INTO t_counter (id, n) VALUES (1, 0)');
        await Promise.all(
          Array.from({ length: 20 }, () =>
            db.transaction(async (tx) => {
              if (tx.dialect === 'postgres') await tx.query('SELECT n FROM t_counter WHERE id = 1 FOR UPDATE');
              const row = await tx.get<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
              await new Promise((r) => setImmediate(r));
              await tx.run('UPDATE t_counter SET n = ? WHERE id = 1', [Number(row!.n) + 1]);
            }),
          ),
        );
        const row = await db.get<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
        assert.equal(Number(row!.n), 20);
      });

      test('a call outside an open transaction is not swallowed by its rollback', async () => {
        await db.exec('CREATE TABLE t_outside (id INTEGER PRIMARY KEY)');
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let opened!: () => void;
        const inside = new Promise<void>((r) => {
          opened = r;
        });
        const failing = db.transaction(async (tx) => {
          await tx.run('INSERT INTO t_outside (id) VALUES (1)');
          opened();
          await gate;
          throw new Error('rollback');
        });
        // Issued once the transaction has written (an event, not a pause): it must not join it.
        await inside;
        const outside = db.run('INSERT INTO t_outside (id) VALUES (2)');
        release();
        await assert.rejects(failing, /rollback/);
        await outside;
        const ids = (await db.query<{ id: number }>('SELECT id FROM t_outside')).map((r) => Number(r.id));
        assert.deepEqual(ids, [2]);
      });

      test('calls through the outer Db inside a transaction join it (no deadlock, rolled back together)', async () => {
        await db.exec('CREATE TABLE t_join (id INTEGER PRIMARY KEY)');
        const repoStyle = (id: number) => db.run('INSERT INTO t_join (id) VALUES (?)', [id]);
        await assert.rejects(
          db.transaction(async () => {
            await repoStyle(1);
            await db.transaction(async () => repoStyle(2));
            assert.equal((await db.query('SELECT id FROM t_join')).length, 2, 'visible inside');
            throw new Error('undo');
          }),
          /undo/,
        );
        assert.equal((await db.query('SELECT id FROM t_join')).length, 0);
        await db.transaction(async () => repoStyle(3));
        assert.equal((await db.query('SELECT id FROM t_join')).length, 1);
      });

      test('a bad statement is a clear error, not a crash', async () => {
        await assert.rejects(db.query('SELECT * FROM no_such_table'), /no_such_table/);
        assert.equal((await db.get<{ one: number }>('SELECT 1 AS one'))?.one, 1);
      });
    });

    describe('migrations', () => {
      test('are recorded, and running them again applies nothing', async () => {
        const versions = await appliedVersions(db);
        assert.deepEqual(
          versions,
          MIGRATIONS.map((m) => m.version),
        );
        const again = await migrate(db);
        assert.deepEqual(again.applied, []);
        assert.equal(again.current, MIGRATIONS.at(-1)!.version);
      });

      test('a failing migration leaves no trace and names itself', async () => {
        const bad: Migration = {
          version: 9001,
          name: 'broken',
          sql: 'CREATE TABLE t_half (id INTEGER); SELECT * FROM nope',
        };
        await assert.rejects(migrate(db, [...MIGRATIONS, bad]), /migration 9001 \(broken\) failed/);
        assert.ok(!(await appliedVersions(db)).includes(9001));
        await assert.rejects(db.query('SELECT * FROM t_half'));
      });

      test('a per-dialect migration runs its own SQL, and a newer database is refused', async () => {
        const m: Migration = {
          version: 9002,
          name: 'dialect',
          sql: {
            sqlite: "CREATE TABLE t_dialect (d TEXT DEFAULT 'sqlite')",
            postgres: "CREATE TABLE t_dialect (d TEXT DEFAULT 'postgres')",
          },
        };
        const r = await migrate(db, [...MIGRATIONS, m]);
        assert.deepEqual(r.applied, [9002]);
        await db.run('INSERT INTO t_dialect DEFAULT VALUES');
        assert.equal((await db.get<{ d: string }>('SELECT d FROM t_dialect'))?.d, backend.name);
        await assert.rejects(migrate(db), /newer than this codex-fleet knows/);
        await db.run('DELETE FROM schema_migrations WHERE version = 9002');
      });

      test('out-of-order migration lists are rejected', async () => {
        const list = [MIGRATIONS[0], { ...MIGRATIONS[0], name: 'dup' }];
        await assert.rejects(migrate(db, list), /out of order/);
      });
    });

    describe('accounts', () => {
      test('upsert by id keeps created_at, updates fields; get, getByName, list', async () => {
        const repos = createRepos(db, clock);
        now = 1_800_000_000_000;
        await repos.accounts.upsert(account('a1'));
        now += 1000;
        await repos.accounts.upsert(account('a1', { plan: 'pro', disabled: true, addedAt: null }));
        await repos.accounts.upsertMany([
          account('a2', { name: 'zed' }),
          account('a3', { format: 'multi-auth', sourceIndex: 2 }),
        ]);
        const a1 = await repos.accounts.get('a1');
        assert.deepEqual(a1, {
          ...account('a1', { plan: 'pro', disabled: true }),
          createdAt: 1_800_000_000_000,
          updatedAt: 1_800_000_001_000,
        });
        assert.equal((await repos.accounts.getByName('zed'))?.id, 'a2');
        assert.equal((await repos.accounts.get('a3'))?.sourceIndex, 2);
        assert.deepEqual(
          (await repos.accounts.list()).map((a) => a.id),
          ['a1', 'a3', 'a2'],
        );
        assert.equal(await repos.accounts.get('missing'), undefined);
        assert.equal(await repos.accounts.setDisabled('a1', false), true);
        assert.equal((await repos.accounts.get('a1'))?.disabled, false);
        assert.equal(await repos.accounts.setDisabled('missing', true), false);
      });

      test('changed names the accounts whose row is missing or differs in a field the source gives', async () => {
        const repos = createRepos(db, clock);
        await repos.accounts.upsertMany([
          account('c1'),
          account('c2', { email: null, plan: null, accountId: null, sourcePath: null, sourceIndex: 3 }),
          account('c3', { disabled: true, name: 'ünïcode "quoted" …' }),
        ]);
        const same = [
          account('c1', { lastUsed: 5, addedAt: null }), // not fields the source gives
          account('c2', { email: null, plan: null, accountId: null, sourcePath: null, sourceIndex: 3 }),
          account('c3', { disabled: true, name: 'ünïcode "quoted" …' }),
        ];
        assert.deepEqual(await repos.accounts.changed(same), []);
        const differing = [
          account('c1', { name: 'renamed' }),
          account('c1', { email: 'other@example.com' }),
          account('c1', { email: null }),
          account('c1', { plan: 'pro' }),
          account('c1', { accountId: 'acct-other' }),
          account('c1', { format: 'codex-cli' }),
          account('c1', { sourceKind: 'manual' }),
          account('c1', { sourcePath: '/elsewhere.json' }),
          account('c1', { sourceIndex: 0 }),
          account('c1', { disabled: true }),
          account('c2', { email: null, plan: null, accountId: null, sourcePath: null, sourceIndex: null }),
          account('c3', { disabled: false, name: 'ünïcode "quoted" …' }),
          account('new'),
        ];
        for (const a of differing) assert.deepEqual(await repos.accounts.changed([a]), [a], JSON.stringify(a));
        assert.deepEqual(await repos.accounts.changed([...same, account('new')]), [account('new')]);
        assert.deepEqual(await repos.accounts.changed([]), []);
      });

      test('storedPaths lists the local accounts with a path', async () => {
        const repos = createRepos(db, clock);
        await repos.accounts.upsertMany([
          account('p1', { sourcePath: '/imported/one.json', sourceKind: 'manual' }),
          account('p2', { sourcePath: null }),
          account('p3', { sourcePath: 'https://cpa.example/auth', sourceKind: 'cpa' }),
        ]);
        const paths = await repos.accounts.storedPaths();
        assert.ok(paths.some((p) => p.sourcePath === '/imported/one.json' && p.sourceKind === 'manual'));
        assert.ok(!paths.some((p) => p.sourcePath === null || p.sourceKind === 'cpa'));
      });

      test('credentials passed in are never stored', async () => {
        const repos = createRepos(db, clock);
        const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-access-token-value';
        await repos.accounts.upsert({
          ...account('sec'),
          credentials: {
            accessToken: secret,
            refreshToken: 'rt_secret',
            idToken: null,
            accountId: null,
            expiresAt: null,
            lastRefresh: null,
          },
        });
        const dump = JSON.stringify(await db.query('SELECT * FROM accounts'));
        assert.ok(!dump.includes('secret-access-token') && !dump.includes('rt_secret'));
      });

      test('token state: expiry, refresh failures counted, reset by a success', async () => {
        const { accounts } = createRepos(db, clock);
        await accounts.setAccessExpiry('a1', 1_800_000_500_000);
        let s = await accounts.recordRefreshFailure('a1', 'server_error', 1_800_000_010_000);
        s = await accounts.recordRefreshFailure('a1', 'refresh_token_reused', 1_800_000_020_000);
        assert.equal(s.refreshFailures, 2);
        assert.equal(s.lastRefreshError, 'refresh_token_reused');
        assert.equal(s.lastRefreshAt, 1_800_000_020_000);
        assert.equal(s.accessExpiresAt, 1_800_000_500_000);
        assert.equal(s.lastRefresh, null);
        await accounts.recordRefreshSuccess('a1', 1_800_003_600_000, 1_800_000_030_000);
        const ok = await accounts.getTokenState('a1');
        assert.equal(ok?.refreshFailures, 0);
        assert.equal(ok?.lastRefreshError, null);
        assert.equal(ok?.lastRefresh, 1_800_000_030_000);
        assert.equal(ok?.accessExpiresAt, 1_800_003_600_000);
        assert.equal((await accounts.listTokenStates()).length, 1);
      });

      test('remove deletes the account and everything recorded about it', async () => {
        const repos = createRepos(db, clock);
        await repos.accounts.upsert(account('gone'));
        await repos.snapshots.insertProbe('gone', probe(now));
        await repos.flags.flag('gone', 'auth_invalid');
        await repos.accounts.recordRefreshFailure('gone', 'invalid_grant');
        assert.equal(await repos.accounts.remove('gone'), true);
        assert.equal(await repos.accounts.get('gone'), undefined);
        assert.equal(await repos.snapshots.latest('gone'), undefined);
        assert.equal(await repos.snapshots.count('gone'), 0);
        assert.equal(await repos.flags.get('gone'), undefined);
        assert.equal(await repos.accounts.getTokenState('gone'), undefined);
        assert.equal(await repos.accounts.remove('gone'), false);
      });

      const generation = async () =>
        Number((await db.get<{ generation: number }>('SELECT generation FROM accounts_generation'))?.generation ?? 0);

      test('every write to accounts bumps the generation, whoever writes; other tables do not', async () => {
        const repos = createRepos(db, clock);
        const steps: Array<[string, () => Promise<unknown>]> = [
          ['upsert (insert)', () => repos.accounts.upsert(account('g1'))],
          ['upsert (update)', () => repos.accounts.upsert(account('g1', { plan: 'pro' }))],
          ['upsertMany', () => repos.accounts.upsertMany([account('g2'), account('g3')])],
          ['setDisabled', () => repos.accounts.setDisabled('g1', true)],
          ['raw UPDATE', () => db.run("UPDATE accounts SET email = 'raw@example.com' WHERE id = 'g2'")],
          ['remove', () => repos.accounts.remove('g3')],
          ['raw DELETE', () => db.run("DELETE FROM accounts WHERE id = 'g2'")],
        ];
        for (const [what, write] of steps) {
          const before = await generation();
          await write();
          assert.ok((await generation()) > before, `${what} bumps the generation`);
        }
        const before = await generation();
        await repos.settings.set('unrelated', 1);
        await repos.snapshots.insertProbe('g1', probe(now));
        assert.equal(await generation(), before, 'writes to other tables leave it alone');
      });

      test('writeChanged compares only when the accounts or the table changed since the last comparison', async () => {
        const repos = createRepos(db, clock);
        const loaded = [account('w1'), account('w2', { sourceIndex: 1 }), account('w3', { disabled: true })];
        const changed = mock.method(AccountsRepo.prototype, 'changed');
        try {
          const sync = async () => {
            const calls = changed.mock.callCount();
            const r = await repos.accounts.writeChanged(loaded);
            assert.equal(changed.mock.callCount() - calls, r.compared ? 1 : 0, 'compared means changed() ran');
            return r;
          };
          const source = async (id: string) => {
            const { createdAt: _c, updatedAt: _u, ...row } = (await repos.accounts.get(id))!;
            return row;
          };
          assert.deepEqual(await sync(), { compared: true, written: 3 });
          assert.deepEqual(await sync(), { compared: false }, 'unchanged: no comparison');
          assert.deepEqual(await sync(), { compared: false });

          await repos.accounts.setDisabled('w1', true);
          const record = await db.get<{ checked_sources: string | null }>(
            'SELECT checked_sources FROM accounts_generation',
          );
          assert.equal(record?.checked_sources, null, 'a bump drops the stale record');
          assert.deepEqual(await sync(), { compared: true, written: 1 }, 'setDisabled elsewhere: compared, restored');
          assert.equal((await repos.accounts.get('w1'))?.disabled, false);
          assert.deepEqual(await sync(), { compared: false });

          await db.run("DELETE FROM accounts WHERE id = 'w2'");
          assert.deepEqual(await sync(), { compared: true, written: 1 }, 'a deleted row is written again');
          assert.deepEqual(await source('w2'), account('w2', { sourceIndex: 1 }));

          await db.run("UPDATE accounts SET email = 'raw@example.com', name = 'raw' WHERE id = 'w3'");
          assert.deepEqual(await sync(), { compared: true, written: 1 }, 'a raw UPDATE is undone as before');
          assert.deepEqual(await source('w3'), account('w3', { disabled: true }));

          await repos.accounts.upsert(account('elsewhere'));
          assert.deepEqual(await sync(), { compared: true, written: 0 }, 'any write to the table means compare');
          assert.deepEqual(await sync(), { compared: false });

          loaded[1] = account('w2', { sourceIndex: 1, plan: 'pro' });
          assert.deepEqual(await sync(), { compared: true, written: 1 }, 'a changed source field is written');
          assert.equal((await repos.accounts.get('w2'))?.plan, 'pro');
          loaded.push(account('w4'));
          assert.deepEqual(await sync(), { compared: true, written: 1 }, 'a new account is written');
          assert.deepEqual(await sync(), { compared: false });

          await db.run("UPDATE accounts_generation SET checked_sources = 'damaged'");
          assert.deepEqual(await sync(), { compared: true, written: 0 }, 'a damaged record: compare');
          await db.run('UPDATE accounts_generation SET checked_generation = NULL');
          assert.deepEqual(await sync(), { compared: true, written: 0 });
          await db.run('DELETE FROM accounts_generation');
          assert.deepEqual(await sync(), { compared: true, written: 0 }, 'no record at all: compare');
          assert.deepEqual(await sync(), { compared: false }, 'and the record is back');
        } finally {
          changed.mock.restore();
        }
      });

      // PostgreSQL only: SQLite's BEGIN IMMEDIATE lets one writer in at a time, so neither race exists there
      // and the two tests are not defined for it (a skip would read as a missing server).
      const itOnPostgres = (name: string, options: { skip: string | false }, fn: () => Promise<void>) => {
        if (backend.name === 'postgres') it(name, options, fn);
      };
      const pgOnly = { skip: backend.skip() && 'PostgreSQL unavailable (see message above)' };
      const gate = () => {
        let open!: () => void;
        const passed = new Promise<void>((resolve) => {
          open = resolve;
        });
        return { open, passed };
      };
      const someoneWaitsForALock = (what: string) =>
        waitFor(
          async () =>
            Number(
              (
                await db.get<{ n: number }>(
                  "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
              )?.n,
            ) > 0,
          { what },
        );

      itOnPostgres(
        'writeChanged on PostgreSQL waits for an open writer of accounts and compares what it committed',
        pgOnly,
        async () => {
          const repos = createRepos(db, clock);
          const loaded = [account('r1'), account('r2')];
          await repos.accounts.writeChanged(loaded);
          assert.deepEqual(await repos.accounts.writeChanged(loaded), { compared: false });
          // Another session disables r1 and holds its transaction open; our next load must not record
          // "nothing changed" at a generation that already counts that write.
          const wrote = gate();
          const release = gate();
          const other = db.transaction(async (tx) => {
            await tx.run("UPDATE accounts SET disabled = 1 WHERE id = 'r1'");
            wrote.open();
            await release.passed;
          });
          await wrote.passed;
          // A new account changes the sources, so this load compares (the same list would skip: the
          // open write is not committed, so the committed rows still match).
          loaded.push(account('r3'));
          const sync = repos.accounts.writeChanged(loaded);
          await someoneWaitsForALock('writeChanged to wait for the open writer');
          release.open();
          await other;
          assert.deepEqual(await sync, { compared: true, written: 2 });
          assert.equal(
            (await repos.accounts.get('r1'))?.disabled,
            false,
            "the other session's write was seen and undone",
          );
          assert.deepEqual(await repos.accounts.writeChanged(loaded), { compared: false });
        },
      );

      itOnPostgres(
        'a writer takes the counter before any account row, so it cannot deadlock with a comparison',
        pgOnly,
        async () => {
          const repos = createRepos(db, clock);
          await repos.accounts.upsert(account('d1'));
          // What a comparison of the accounts does: take the counter, then (later) write an account row.
          const holding = gate();
          const release = gate();
          const load = db.transaction(async (tx) => {
            await tx.run(`INSERT INTO accounts_generation (id, generation) VALUES (1, 1)
            ON CONFLICT (id) DO UPDATE SET generation = accounts_generation.generation + 1`);
            holding.open();
            await release.passed;
            await tx.run("UPDATE accounts SET plan = 'pro' WHERE id = 'd1'");
          });
          await holding.passed;
          // Another writer of the same row: had it locked d1 before the counter, the load's update of d1
          // would wait for it while it waits for the counter (PostgreSQL would abort one as a deadlock).
          const other = repos.accounts.setDisabled('d1', true);
          await someoneWaitsForALock('the other writer to wait for the counter');
          release.open();
          await Promise.all([load, other]);
          const d1 = await repos.accounts.get('d1');
          assert.deepEqual([d1?.plan, d1?.disabled], ['pro', true], 'both writes landed, one after the other');
        },
      );
    });

    describe('quota snapshots', () => {
      const t0 = 1_800_100_000_000;
      test('a probe round-trips into a cached ProbeResult', async () => {
        const { snapshots } = createRepos(db, clock);
        const p = probe(t0);
        await snapshots.insertProbe('s1', p);
        const latest = await snapshots.latest('s1');
        assert.deepEqual(probeFromSnapshot(latest!), { ...p, source: 'cache' });
      });

      test('latest is the newest conclusive result; a transient failure only shows on request', async () => {
        const { snapshots } = createRepos(db, clock);
        await snapshots.insertProbe('s1', transientProbe(t0 + 1000));
        await snapshots.insertProbe('s2', transientProbe(t0 + 1000));
        const conclusive = await snapshots.latestPerAccount();
        const s1 = conclusive.find((s) => s.accountId === 's1');
        assert.equal(s1?.fetchedAt, t0);
        assert.equal(s1?.state, 'ok');
        assert.equal(
          conclusive.find((s) => s.accountId === 's2')?.reason,
          'cloudflare_challenge',
          'nothing conclusive yet',
        );
        const attempts = await snapshots.latestPerAccount({ conclusive: false });
        assert.equal(attempts.find((s) => s.accountId === 's1')?.reason, 'cloudflare_challenge');
      });

      test('an older result inserted late does not replace a newer one', async () => {
        const { snapshots } = createRepos(db, clock);
        await snapshots.insertProbe('s1', probe(t0 + 5000, { state: 'exhausted', reason: 'limit_reached' }));
        await snapshots.insertProbe('s1', probe(t0 + 2000));
        assert.equal((await snapshots.latest('s1'))?.state, 'exhausted');
        assert.equal((await snapshots.latest('s1', { conclusive: false }))?.fetchedAt, t0 + 5000);
      });

      test('history is ordered and bounded by since; prune keeps the latest', async () => {
        const { snapshots } = createRepos(db, clock);
        const h = await snapshots.history('s1', t0 + 1000);
        assert.deepEqual(
          h.map((s) => s.fetchedAt),
          [t0 + 1000, t0 + 2000, t0 + 5000],
        );
        assert.equal(await snapshots.count('s1'), 4);
        now = t0 + 10_000;
        const removed = await snapshots.prune(1);
        assert.ok(removed >= 3);
        const left = await snapshots.history('s1', 0);
        assert.deepEqual(
          left.map((s) => s.fetchedAt),
          [t0 + 5000],
        );
        assert.equal((await snapshots.latest('s2'))?.reason, 'cloudflare_challenge');
        await assert.rejects(snapshots.prune(-1), /non-negative/);
      });
    });

    describe('flags', () => {
      test('flag, verify, re-flag keeps history, clear, flag again starts over', async () => {
        const { flags } = createRepos(db, clock);
        await flags.flag('f1', 'refresh_token_reused', 100);
        await flags.recordVerification('f1', 200);
        await flags.recordVerification('f1', 300);
        let f = await flags.flag('f1', 'auth_invalid', 400);
        assert.deepEqual(f, {
          accountId: 'f1',
          flaggedAt: 100,
          flaggedReason: 'auth_invalid',
          lastVerified: 300,
          verificationCount: 2,
          clearedAt: null,
        });
        assert.deepEqual(
          (await flags.list()).map((x) => x.accountId),
          ['f1'],
        );
        assert.equal(await flags.clear('f1', 500), true);
        assert.equal(await flags.clear('f1', 600), false);
        assert.deepEqual(await flags.list(), []);
        assert.equal((await flags.list({ includeCleared: true }))[0].clearedAt, 500);
        assert.equal(
          (await flags.recordVerification('f1', 650))?.verificationCount,
          2,
          'no verification on a cleared flag',
        );
        f = await flags.flag('f1', 'deactivated_workspace', 700);
        assert.equal(f.flaggedAt, 700);
        assert.equal(f.verificationCount, 0);
        assert.equal(f.lastVerified, null);
      });
    });

    describe('settings', () => {
      test('JSON values round-trip; prefix listing; delete', async () => {
        const { settings } = createRepos(db, clock);
        await settings.set('inspection.schedule', { every: 30, daily: ['08:00'], tz: 'Europe/Berlin' });
        await settings.set('inspection.thresholds', { '5h': 10 });
        await settings.set('ui.theme', 'dark');
        await settings.set('ui.theme', 'light');
        assert.deepEqual(await settings.get('inspection.schedule'), {
          every: 30,
          daily: ['08:00'],
          tz: 'Europe/Berlin',
        });
        assert.equal(await settings.get('ui.theme'), 'light');
        assert.deepEqual(Object.keys(await settings.all('inspection.')), [
          'inspection.schedule',
          'inspection.thresholds',
        ]);
        assert.equal(await settings.delete('ui.theme'), true);
        assert.equal(await settings.get('ui.theme'), undefined);
        await assert.rejects(settings.set('x', undefined), /must not be undefined/);
      });

      test('setIfAbsent claims a key once, even when two callers race', async () => {
        const { settings } = createRepos(db, clock);
        const results = await Promise.all([settings.setIfAbsent('claim.k', 1), settings.setIfAbsent('claim.k', 2)]);
        assert.deepEqual(results.sort(), [false, true]);
        assert.equal(await settings.setIfAbsent('claim.k', 3), false);
        assert.ok([1, 2].includes((await settings.get<number>('claim.k')) ?? 0));
      });
    });

    describe('leases', () => {
      test('one holder at a time; expiry hands over with a higher fencing token', async () => {
        const leases = new LeaseStore(db, clock);
        now = 1_900_000_000_000;
        const a = await leases.acquire('collector', 'A', 1000);
        assert.equal(a?.holder, 'A');
        assert.equal(await leases.acquire('collector', 'B', 1000), null);
        now += 500;
        const renewed = await leases.renew('collector', 'A', a!.token, 1000);
        assert.equal(renewed?.expiresAt, now + 1000);
        assert.equal(renewed?.token, a!.token);
        const again = await leases.acquire('collector', 'A', 1000);
        assert.equal(again?.token, a!.token, 'acquiring a lease we hold is a renewal');
        now += 999;
        assert.equal((await leases.current('collector'))?.holder, 'A');
        now += 1;
        assert.equal(await leases.current('collector'), null);
        const b = await leases.acquire('collector', 'B', 1000);
        assert.equal(b?.holder, 'B');
        assert.ok(b!.token > a!.token);
        assert.equal(await leases.renew('collector', 'A', a!.token, 1000), null, 'the old holder lost it');
        assert.equal(await leases.holds('collector', 'A', a!.token), false, 'a fenced write by A is refused');
        assert.equal(
          await db.transaction(() => leases.holds('collector', 'B', b!.token)),
          true,
          'B may write (checked inside its transaction)',
        );
        assert.equal(await leases.release('collector', 'A', a!.token), false);
        assert.equal(await leases.release('collector', 'B', b!.token), true);
        const c = await leases.acquire('collector', 'C', 1000);
        assert.ok(c!.token > b!.token, 'tokens keep growing after a release');
        await assert.rejects(leases.acquire('collector', 'C', 0), /positive/);
      });

      test('many concurrent contenders: exactly one wins', async () => {
        const leases = new LeaseStore(db, clock);
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => leases.acquire('race', `holder-${i}`, 60_000)),
        );
        assert.equal(results.filter((r) => r !== null).length, 1);
      });

      test('leader elector steps down when the database is gone and its lease has run out', async () => {
        const own = await backend.open('leader_down');
        const elector = new LeaderElector({
          leases: new LeaseStore(own, clock),
          name: 'down',
          holder: 'A',
          ttlMs: 3000,
          clock,
          timers: { setTimeout: () => 0, clearTimeout: () => {} },
        });
        const lost: string[] = [];
        const errors: string[] = [];
        elector.on('lost', (why) => lost.push(why));
        elector.on('error', (e) => errors.push(e.message));
        await elector.tick();
        assert.ok(elector.isLeader);
        await own.close();
        now += 1000;
        await elector.tick();
        assert.ok(elector.isLeader, 'still within its lease: keeps leading');
        now += 2000;
        await elector.tick();
        assert.ok(!elector.isLeader);
        assert.deepEqual(lost, ['error']);
        assert.equal(errors.length, 2);
      });

      test('leader elector: gained, renews, loses to a takeover after expiry', async () => {
        const leases = new LeaseStore(db, clock);
        const timers: Timers = { setTimeout: () => 0, clearTimeout: () => {} }; // driven by tick()
        const mk = (holder: string) =>
          new LeaderElector({ leases, name: 'leader', holder, ttlMs: 3000, intervalMs: 1000, clock, timers });
        const a = mk('A');
        const b = mk('B');
        const events: string[] = [];
        for (const [n, e] of [
          ['A', a],
          ['B', b],
        ] as const) {
          e.on('gained', (l) => events.push(`${n} gained ${l.token}`));
          e.on('lost', (why) => events.push(`${n} lost ${why}`));
        }
        await a.start();
        await b.start();
        assert.ok(a.isLeader && !b.isLeader);
        const token = a.token!;
        now += 2000;
        await a.tick();
        await b.tick();
        now += 2000;
        await b.tick();
        assert.ok(!b.isLeader, 'A renewed, so B still waits');
        now += 3001; // A is frozen (crashed)
        await b.tick();
        assert.ok(b.isLeader);
        await a.tick();
        assert.ok(!a.isLeader);
        assert.deepEqual(events, [`A gained ${token}`, `B gained ${token + 1}`, 'A lost taken']);
        await b.stop();
        await a.tick();
        assert.ok(a.isLeader, 'a stopped leader releases at once');
        await a.stop();
      });
    });
  });
}
