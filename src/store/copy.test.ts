// db copy round trip: SQLite → PostgreSQL → SQLite, verified by counts and checksums, plus the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import type { AccountInput } from './accounts-repo.ts';
import { copyDatabase, tableChecksum } from './copy.ts';
import type { Db, Migration, SqlValue } from './db.ts';
import { createRepos } from './index.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { openDatabase, openStore, parseDatabaseSpec } from './open.ts';

const pgServer: PostgresServer | null = await startPostgres();
const skip = pgServer === null ? 'PostgreSQL unavailable (see message above)' : false;
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-copy-'));
after(async () => {
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const TABLES = ['accounts', 'token_state', 'quota_snapshots', 'quota_latest', 'account_flags', 'settings', 'leases'];

const seededAccount = (i: number): AccountInput => ({
  id: `acct-${i}`,
  name: i % 2 ? `Ünïcødé ${i} — “quoted” 'single'` : `plain-${i}`,
  email: i % 3 ? `${i}@example.com` : null,
  plan: 'plus',
  accountId: `acct-${i}`,
  format: 'codex-cli',
  sourceKind: 'auth-dir',
  sourcePath: `/auth/${i}.json`,
  sourceIndex: i % 4 ? null : i,
  disabled: i % 5 === 0,
  addedAt: 1_700_000_000_000 + i,
  lastUsed: null,
});
const SEEDED = Array.from({ length: 40 }, (_, i) => seededAccount(i));

async function seed(db: Db): Promise<void> {
  const repos = createRepos(db, () => 1_800_000_000_000);
  for (let i = 0; i < 40; i++) {
    await repos.accounts.upsert(seededAccount(i));
    for (let j = 0; j < 30; j++) {
      await repos.snapshots.insert({
        accountId: `acct-${i}`,
        fetchedAt: 1_800_000_000_000 + j * 60_000,
        state: j % 7 ? 'ok' : 'exhausted',
        reason: j % 7 ? 'quota_available' : 'limit_reached',
        httpStatus: 200,
        errorCode: null,
        message: j % 11 ? null : "line with ? and 'quote'",
        plan: 'plus',
        allowed: true,
        limitReached: j % 7 === 0,
        rateLimitReachedType: null,
        windows: [
          {
            kind: '5h',
            scope: 'primary',
            limitName: null,
            usedPercent: j / 3,
            remainingPercent: 100 - j / 3,
            windowSeconds: 18000,
            resetAfterSeconds: 1.25,
            resetsAt: null,
          },
        ],
        credits: null,
        resetAfterSeconds: j % 7 ? null : 1234.5,
        retryAfterSeconds: null,
        source: 'network',
        transient: j % 13 === 0,
        attempts: 1,
        usagePath: '/wham/usage',
      });
    }
    await repos.accounts.recordRefreshFailure(`acct-${i}`, 'server_error');
    if (i % 6 === 0) await repos.flags.flag(`acct-${i}`, 'refresh_token_reused');
  }
  await repos.settings.set('thresholds', { '5h': 10, weekly: 5.5, nested: [1, null, 'x'] });
  await repos.leases.acquire('leader', 'host-a', 60_000);
  // A load of the same accounts records its comparison (accounts_generation), which must not travel.
  assert.deepEqual(await repos.accounts.writeChanged(SEEDED), { compared: true, written: 0 });
  assert.deepEqual(await repos.accounts.writeChanged(SEEDED), { compared: false });
}

/** The target's counter was bumped by the copy, and its first load of the same accounts compares. */
async function comparesAfterCopy(db: Db, what: string): Promise<void> {
  const row = await db.get<{ generation: number; checked_sources: string | null }>(
    'SELECT generation, checked_sources FROM accounts_generation',
  );
  assert.ok(Number(row?.generation) > 0, `${what}: the target's triggers counted the copied accounts`);
  const repos = createRepos(db, () => 1_800_000_000_000);
  assert.deepEqual(await repos.accounts.writeChanged(SEEDED), { compared: true, written: 0 }, what);
  assert.deepEqual(await repos.accounts.writeChanged(SEEDED), { compared: false }, what);
}

async function dump(db: Db, table: string): Promise<unknown[]> {
  const rows = await db.query(`SELECT * FROM ${table}`);
  const norm = rows.map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))));
  return norm.sort();
}

describe('db copy', { skip }, () => {
  it('round-trips SQLite → PostgreSQL → SQLite with identical rows and checksums', async () => {
    const a = await openStore({ dataDir: join(tmp, 'a') });
    const pgUrl = await pgServer!.createDatabase('copy');
    const p = await openStore({ databaseUrl: pgUrl });
    const b = await openStore({ dataDir: join(tmp, 'b') });
    try {
      await seed(a);
      const progress: string[] = [];
      const r1 = await copyDatabase(a, p, { batchSize: 97, onProgress: (x) => progress.push(x.table) });
      assert.ok(r1.ok, JSON.stringify(r1.tables.filter((t) => !t.ok)));
      const copied = new Set(r1.tables.map((t) => t.table));
      for (const t of TABLES) assert.ok(copied.has(t), `${t} copied`);
      assert.ok(!copied.has('accounts_generation'), 'the derived counter is not copied');
      assert.equal(r1.tables.find((t) => t.table === 'quota_snapshots')?.targetRows, 1200);
      assert.ok(progress.filter((t) => t === 'quota_snapshots').length > 10, 'progress reported per batch');

      const r2 = await copyDatabase(p, b, { batchSize: 250 });
      assert.ok(r2.ok);
      await comparesAfterCopy(p, 'SQLite → PostgreSQL');
      await comparesAfterCopy(b, 'PostgreSQL → SQLite');
      for (const t of TABLES) {
        assert.deepEqual(await dump(b, t), await dump(a, t), `table ${t} identical after the round trip`);
        const x = r1.tables.find((r) => r.table === t)!;
        const y = r2.tables.find((r) => r.table === t)!;
        assert.equal(y.targetChecksum, x.sourceChecksum, `checksum of ${t} survives both hops`);
      }
      // Sequences were moved past the copied ids: a new snapshot gets a fresh id on PostgreSQL.
      const id = await createRepos(p).snapshots.insert({
        ...(await createRepos(p).snapshots.latest('acct-1'))!,
        fetchedAt: 1_900_000_000_000,
      });
      assert.equal(id, 1201);
    } finally {
      await Promise.all([a.close(), p.close(), b.close()]);
    }
  });

  it('every portable column type survives both hops exactly (bytes, doubles, big integers, unicode)', async () => {
    const extra: Migration = {
      version: 9100,
      name: 'types',
      sql: {
        sqlite:
          'CREATE TABLE t_types (id INTEGER PRIMARY KEY, b BLOB, d DOUBLE PRECISION, big BIGINT, txt TEXT, flag INTEGER)',
        postgres:
          'CREATE TABLE t_types (id BIGSERIAL PRIMARY KEY, b BYTEA, d DOUBLE PRECISION, big BIGINT, txt TEXT, flag INTEGER)',
      },
    };
    const list = [...MIGRATIONS, extra];
    const a = await openStore({ dataDir: join(tmp, 'types-a'), migrations: list });
    const p = await openStore({ databaseUrl: await pgServer!.createDatabase('copy_types'), migrations: list });
    const b = await openStore({ dataDir: join(tmp, 'types-b'), migrations: list });
    try {
      const values: SqlValue[][] = [
        [
          1,
          new Uint8Array([0, 1, 2, 255, 92, 120]),
          0.1,
          Number.MAX_SAFE_INTEGER,
          'emoji 🚀 and \\ backslash "quotes"',
          1,
        ],
        [2, new Uint8Array([]), -1e-300, -Number.MAX_SAFE_INTEGER, '', 0],
        [3, null, 1.7976931348623157e308, 0, null, null],
        [4, new Uint8Array([10]), 2 / 3, 1_800_000_000_000, 'line\nbreak\ttab', 1],
      ];
      for (const v of values)
        await a.run('INSERT INTO t_types (id, b, d, big, txt, flag) VALUES (?, ?, ?, ?, ?, ?)', v);
      const r1 = await copyDatabase(a, p);
      const r2 = await copyDatabase(p, b);
      assert.ok(r1.ok && r2.ok);
      const read = async (db: Db) =>
        (await db.query('SELECT id, b, d, big, txt, flag FROM t_types ORDER BY id')).map((r) => {
          const row = { ...r };
          row.b = row.b == null ? null : Buffer.from(row.b as Uint8Array).toString('hex');
          return row;
        });
      const original = await read(a);
      assert.deepEqual(await read(p), original);
      assert.deepEqual(await read(b), original);
      const t = r1.tables.find((x) => x.table === 't_types')!;
      assert.equal(r2.tables.find((x) => x.table === 't_types')?.targetChecksum, t.sourceChecksum);
    } finally {
      await Promise.all([a.close(), p.close(), b.close()]);
    }
  });

  it('refuses a non-empty target unless forced, and a checksum notices a changed row', async () => {
    const a = await openStore({ dataDir: join(tmp, 'c') });
    const p = await openStore({ databaseUrl: await pgServer!.createDatabase('copy_force') });
    try {
      await seed(a);
      await copyDatabase(a, p);
      await comparesAfterCopy(p, 'copied');
      await assert.rejects(copyDatabase(a, p), /not empty .*--force/);
      await p.run("UPDATE accounts SET email = 'changed@example.com' WHERE id = 'acct-1'");
      const cols = ['id', 'name', 'email'];
      const [x, y] = [
        await tableChecksum(a, 'accounts', cols, ['id']),
        await tableChecksum(p, 'accounts', cols, ['id']),
      ];
      assert.equal(x.rows, y.rows);
      assert.notEqual(x.checksum, y.checksum);
      await p.run("INSERT INTO settings (key, value, updated_at) VALUES ('extra', '1', 1)");
      const forced = await copyDatabase(a, p, { force: true });
      assert.ok(forced.ok);
      await comparesAfterCopy(p, 'copied with --force over a target that had recorded a comparison');
      assert.equal(await createRepos(p).settings.get('extra'), undefined, 'force replaced the old contents');
    } finally {
      await Promise.all([a.close(), p.close()]);
    }
  });

  it('CLI: db migrate, db copy with verification, clear errors for bad input', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
        encoding: 'utf8',
        env: { ...process.env, CODEX_FLEET_DATABASE_URL: '' },
      });
    const dir = join(tmp, 'cli');
    let r = cli('db', 'migrate', '--data-dir', dir, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).applied.includes(1), true);
    const src = await openStore({ dataDir: dir });
    await seed(src);
    await src.close();

    const url = await pgServer!.createDatabase('copy_cli');
    r = cli('db', 'copy', '--from', `sqlite:${join(dir, 'codex-fleet.db')}`, '--to', url, '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.rows, 40 + 40 + 1200 + 40 + 7 + 1 + 1);

    r = cli('db', 'status', '--database-url', url, '--json');
    assert.equal(JSON.parse(r.stdout).tables.quota_snapshots, 1200);
    r = cli('db', 'copy', '--from', `sqlite:${join(dir, 'codex-fleet.db')}`, '--to', url);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not empty/);
    await assert.rejects(
      openDatabase(parseDatabaseSpec(`sqlite:${join(tmp, 'nope.db')}`), { mustExist: true }),
      /does not exist/,
    );
    assert.throws(() => parseDatabaseSpec('mysql://u:pw@h/x'), /unsupported database "mysql:\/\/u:\*\*\*\*@h\/x"/);
    r = cli('db', 'migrate', '--database-url', 'postgres://u:hunter2@127.0.0.1:1/x');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot connect to PostgreSQL/);
    assert.doesNotMatch(r.stderr, /hunter2/, 'the password never appears in errors');
  });
});
