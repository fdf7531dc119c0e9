// Migration 2 (seats) on a store the landed main wrote (test/fixtures/seats, made by make-landed-store.ts):
// every history row survives, history of a one-seat workspace moves to the seat, history of a workspace
// with several seats now stays under the workspace id and is marked; SQLite and the real PostgreSQL,
// and `db copy` from the old store works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { resolveConfig } from '../core/config.ts';
import { Fleet } from '../core/fleet.ts';
import { mintTokens } from '../sim/tokens.ts';
import { copyDatabase, countRows, listTables } from './copy.ts';
import type { Db } from './db.ts';
import { createRepos } from './index.ts';
import { appliedVersions, migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { openDatabase, parseDatabaseSpec } from './open.ts';
import type { SeatCandidate } from './seat-attribution-repo.ts';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/seats/landed-d7e07b0.sqlite');
const LANDED_VERSIONS = [1, 100, 200];
/** Every table whose rows name an account, and the column that does. */
const HISTORY: Record<string, string> = {
  accounts: 'id',
  quota_snapshots: 'account_id',
  quota_latest: 'account_id',
  token_state: 'account_id',
  account_flags: 'account_id',
  actions: 'account_id',
  disable_ownership: 'account_id',
  audit_log: 'account_id',
  inspection_results: 'account_id',
};

const pgServer: PostgresServer | null = await startPostgres();
if (pgServer === null && process.env.CI === 'true') throw new Error('PostgreSQL is required in CI');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-seats-'));
after(async () => {
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function freshFixture(name: string): string {
  const path = join(tmp, `${name}.sqlite`);
  copyFileSync(FIXTURE, path);
  return path;
}

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await listTables(db)) out[t] = await countRows(db, t);
  return out;
}

async function byAccount(db: Db, id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [table, col] of Object.entries(HISTORY)) {
    const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${col} = ?`, [id]);
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}

const seat = (id: string, accountId: string, email: string): SeatCandidate => ({
  id,
  accountId,
  email,
  sourceKind: 'auth-dir',
});
// What the auth files hold now: ws-solo has one seat, ws-team has two.
const NOW_LOADED = [
  seat('ws-solo:user-solo', 'ws-solo', 'solo@example.test'),
  seat('ws-team:user-team-a', 'ws-team', 'team-a@example.test'),
  seat('ws-team:user-team-b', 'ws-team', 'team-b@example.test'),
];

/** Runs migration 2 and the attribution on a store at the landed schema; asserts nothing is lost. */
async function migrateAndAttribute(db: Db): Promise<void> {
  assert.deepEqual(await appliedVersions(db), LANDED_VERSIONS);
  const before = await counts(db);
  const soloBefore = await byAccount(db, 'ws-solo');
  const teamBefore = await byAccount(db, 'ws-team');
  assert.ok(soloBefore.quota_snapshots > 0 && teamBefore.quota_snapshots > 0, 'the fixture holds history');
  assert.ok(teamBefore.actions > 0 && teamBefore.disable_ownership > 0 && teamBefore.account_flags > 0);

  const result = await migrate(db);
  // Migration 2 is the seats one; later migrations (monitoring's 2xx) may follow it.
  assert.equal(result.applied[0], 2);
  assert.ok(result.applied.every((v, i) => i === 0 || v > 2));
  const repos = createRepos(db, () => Date.parse('2026-12-04T00:00:00Z'));
  assert.deepEqual(
    (await repos.seats.list()).map((s) => [s.legacyId, s.status]),
    [
      ['ws-solo', 'pending'],
      ['ws-team', 'pending'],
    ],
  );

  // Not loaded yet: nothing can be decided, nothing moves.
  assert.deepEqual(await repos.seats.attribute([]), []);
  const changed = await repos.seats.attribute(NOW_LOADED);
  assert.deepEqual(
    changed.map((c) => [c.legacyId, c.status, c.seatId]),
    [
      ['ws-solo', 'moved', 'ws-solo:user-solo'],
      ['ws-team', 'unattributed', null],
    ],
  );
  assert.match(changed[1].note!, /2 seats \(team-a@example\.test, team-b@example\.test\) share workspace ws-team/);

  // Every row is still there: the same count in every table the landed code wrote.
  const after = await counts(db);
  for (const [table, n] of Object.entries(before)) assert.equal(after[table], n, `${table} kept every row`);
  assert.equal(after.seat_attribution, 2);
  // One seat: its history is the seat's now, all of it.
  assert.deepEqual(await byAccount(db, 'ws-solo:user-solo'), soloBefore);
  assert.deepEqual(
    Object.values(await byAccount(db, 'ws-solo')),
    Object.values(HISTORY).map(() => 0),
  );
  // Several seats: kept under the workspace id, marked, and no seat got it by guesswork.
  assert.deepEqual(await byAccount(db, 'ws-team'), teamBefore);
  for (const s of NOW_LOADED.slice(1)) {
    assert.deepEqual(
      Object.values(await byAccount(db, s.id)),
      Object.values(HISTORY).map(() => 0),
    );
  }
  const stored = await repos.accounts.get('ws-solo:user-solo');
  assert.equal(stored?.email, 'solo@example.test');
  assert.equal(await repos.snapshots.count('ws-solo:user-solo'), soloBefore.quota_snapshots);
  // Settled: a second load changes nothing.
  assert.deepEqual(await repos.seats.attribute(NOW_LOADED), []);
}

describe('seats migration on a store written by the landed main', () => {
  it('SQLite: every history row survives; one-seat history moves, several-seat history is marked', async () => {
    const db = await openDatabase(parseDatabaseSpec(`sqlite:${freshFixture('sqlite')}`), { mustExist: true });
    try {
      await migrateAndAttribute(db);
    } finally {
      await db.close();
    }
  });

  it('PostgreSQL: the same store copied at the landed schema, then migrated', { skip: !pgServer }, async () => {
    const from = await openDatabase(parseDatabaseSpec(`sqlite:${freshFixture('pg-src')}`), { mustExist: true });
    const to = await openDatabase(parseDatabaseSpec(await pgServer!.createDatabase('seats_mig')));
    try {
      await migrate(
        to,
        MIGRATIONS.filter((m) => LANDED_VERSIONS.includes(m.version)),
      );
      const report = await copyDatabase(from, to);
      assert.equal(report.ok, true);
      await migrateAndAttribute(to);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('db copy from the old store: migrates it, copies every row (seat_attribution too), verified', {
    skip: !pgServer,
  }, async () => {
    const path = freshFixture('cli');
    const url = await pgServer!.createDatabase('seats_cli');
    const r = spawnSync(
      process.execPath,
      ['src/cli/main.ts', 'db', 'copy', '--from', `sqlite:${path}`, '--to', url, '--json'],
      {
        encoding: 'utf8',
        env: { ...process.env, CODEX_FLEET_DATABASE_URL: '' },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; tables: Array<{ table: string; targetRows: number }> };
    assert.equal(report.ok, true);
    assert.equal(report.tables.find((t) => t.table === 'seat_attribution')?.targetRows, 2);
    const pg = await openDatabase(parseDatabaseSpec(url));
    try {
      assert.ok((await appliedVersions(pg)).includes(2));
      assert.equal(await countRows(pg, 'quota_snapshots'), 6);
    } finally {
      await pg.close();
    }
  });

  it('the first load by codex-fleet does it: the seat shows the history the old store kept for it', async () => {
    const root = join(tmp, 'fleet');
    mkdirSync(join(root, 'data'), { recursive: true });
    mkdirSync(join(root, 'account'));
    copyFileSync(FIXTURE, join(root, 'data', 'codex-fleet.db'));
    const now = Math.floor(Date.parse('2026-12-04T00:00:00Z') / 1000);
    for (const [ws, user, email] of [
      ['ws-solo', 'user-solo', 'solo@example.test'],
      ['ws-team', 'user-team-a', 'team-a@example.test'],
      ['ws-team', 'user-team-b', 'team-b@example.test'],
    ]) {
      const t = mintTokens({ accountId: ws, userId: user, email, plan: 'team' }, now, now + 86_400);
      const file = {
        type: 'codex',
        email,
        id_token: t.idToken,
        access_token: t.accessToken,
        refresh_token: t.refreshToken,
        account_id: ws,
      };
      writeFileSync(join(root, 'account', `codex-${email}.json`), JSON.stringify(file), { mode: 0o600 });
    }
    const config = resolveConfig(
      { dataDir: join(root, 'data'), accountDir: join(root, 'account'), chatgptUrl: 'http://127.0.0.1:9' },
      {},
    );
    const fleet = await Fleet.open(config);
    try {
      const { accounts, errors } = await fleet.accounts();
      // The fixture's accounts lived in a temp dir that is gone: reported like any missing imported file.
      for (const e of errors) assert.match(e.message, /landed-store-.*: no such file/);
      assert.deepEqual(accounts.map((a) => a.id).sort(), [
        'ws-solo:user-solo',
        'ws-team:user-team-a',
        'ws-team:user-team-b',
      ]);
      const seats = await fleet.repos.seats.list();
      assert.deepEqual(
        seats.map((s) => [s.legacyId, s.status, s.seatId]),
        [
          ['ws-solo', 'moved', 'ws-solo:user-solo'],
          ['ws-team', 'unattributed', null],
        ],
      );
      const evidence = await fleet.evidence(accounts);
      const solo = evidence.find((e) => e.account.id === 'ws-solo:user-solo')!;
      assert.equal(solo.probe?.state, 'ok', "the solo seat's last stored result is its own now");
      for (const e of evidence.filter((x) => x.account.accountId === 'ws-team')) {
        assert.equal(e.probe, null, 'no seat of ws-team is credited with history it may not have made');
      }
      assert.equal((await fleet.repos.accounts.get('ws-solo:user-solo'))?.userId, 'user-solo');
    } finally {
      await fleet.close();
    }
  });
});
