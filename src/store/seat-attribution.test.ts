// Which seat history stored under a bare workspace id belongs to (pure), and what a move leaves behind
// when the seat already has rows of its own (SQLite).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRepos } from './index.ts';
import { migrate } from './migrate.ts';
import { decideAttribution, type SeatCandidate } from './seat-attribution-repo.ts';
import { openSqlite } from './sqlite.ts';

const seat = (id: string, accountId: string | null, over: Partial<SeatCandidate> = {}): SeatCandidate => ({
  id,
  accountId,
  email: `${id}@x`,
  sourceKind: 'auth-dir',
  ...over,
});

describe('decideAttribution', () => {
  const legacy = { legacyId: 'ws', workspaceId: 'ws' };
  const cases: Array<{ name: string; loaded: SeatCandidate[]; want: string; seatId?: string }> = [
    { name: 'no seat of the workspace loaded: still pending', loaded: [seat('other:u', 'other')], want: 'pending' },
    { name: 'one seat: moved to it', loaded: [seat('ws:u1', 'ws'), seat('o:u', 'o')], want: 'moved', seatId: 'ws:u1' },
    { name: 'several seats: unattributed', loaded: [seat('ws:u1', 'ws'), seat('ws:u2', 'ws')], want: 'unattributed' },
    {
      name: 'the same id (no user, no email): kept',
      loaded: [seat('ws', 'ws'), seat('ws:u2', 'ws')],
      want: 'kept',
      seatId: 'ws',
    },
    {
      name: 'CPA accounts of the workspace do not count (they never used the workspace id)',
      loaded: [seat('ws:u1', 'ws'), seat('cpa:s:f.json', 'ws', { sourceKind: 'cpa' })],
      want: 'moved',
      seatId: 'ws:u1',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideAttribution(legacy, c.loaded);
      assert.equal(d.status, c.want);
      if (c.seatId) assert.equal('seatId' in d ? d.seatId : null, c.seatId);
      if (d.status === 'unattributed') assert.match(d.note, /2 seats \(ws:u1@x, ws:u2@x\) share workspace ws/);
    });
  }
});

describe('moving one workspace to its seat', () => {
  it('a one-row table where the seat already has a row keeps the old row under the workspace id, and says so', async () => {
    const db = openSqlite(':memory:');
    try {
      // The old schema (before seats), one account with history, then migration 2.
      await migrate(
        db,
        (await import('./migrations/index.ts')).MIGRATIONS.filter((m) => m.version !== 2),
      );
      const repos = createRepos(db, () => 1_000);
      // Written as the old code wrote it (the repo of today knows the user_id column the old schema lacks).
      await db.run(
        `INSERT INTO accounts (id, name, email, plan, account_id, format, source_kind, source_path, source_index, disabled, created_at, updated_at)
         VALUES ('ws', 'a', 'a@x', NULL, 'ws', 'cpa', 'auth-dir', '/a.json', NULL, 0, 1, 1)`,
      );
      await repos.accounts.recordRefreshFailure('ws', 'server_error', 500);
      await repos.flags.flag('ws', 'refresh_token_reused', 500);
      await migrate(db);
      // The seat wrote its own token state before the move (e.g. an older codex-fleet running beside).
      await repos.accounts.recordRefreshSuccess('ws:u1', 2_000, 900);
      const [moved] = await repos.seats.attribute([
        { id: 'ws:u1', accountId: 'ws', email: 'a@x', sourceKind: 'auth-dir', userId: 'u1' },
      ]);
      assert.equal(moved.status, 'moved');
      assert.match(moved.note ?? '', /token_state stay under ws/);
      assert.equal((await repos.accounts.getTokenState('ws'))?.lastRefreshError, 'server_error', 'kept, not dropped');
      assert.equal((await repos.accounts.getTokenState('ws:u1'))?.lastRefresh, 900, "the seat's own row wins");
      assert.equal((await repos.flags.get('ws:u1'))?.flaggedReason, 'refresh_token_reused', 'the flag moved');
      const account = await repos.accounts.get('ws:u1');
      assert.equal(account?.userId, 'u1');
      assert.equal(await repos.accounts.get('ws'), undefined);
    } finally {
      await db.close();
    }
  });
});
