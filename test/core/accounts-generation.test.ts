// Fleet.accounts() writes what the auth files changed, and skips comparing them with the stored rows
// while neither the files nor the accounts table changed since the last load (migration 5's counter).
// Real auth files, the real core, on SQLite and on the real PostgreSQL; the comparison is observed by
// a spy that calls through to AccountsRepo.changed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { mintTokens } from '../../src/sim/tokens.ts';
import { AccountsRepo } from '../../src/store/accounts-repo.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const pgServer: PostgresServer | null = await startPostgres();
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cf-accounts-generation-'));
});
after(async () => {
  await pgServer?.stop();
  await rm(root, { recursive: true, force: true });
});

const nowS = Math.floor(Date.now() / 1000);
const fileText = (n: number, plan = 'team') =>
  JSON.stringify({
    access_token: mintTokens(
      { accountId: `acc-${n}`, userId: `u${n}`, email: `${n}@example.com`, plan },
      nowS,
      nowS + 3600,
    ).accessToken,
    account_id: `acc-${n}`,
  });

/** Writes an auth file with an old mtime, as an unchanged file on a real machine has. */
async function writeAuthFile(dir: string, n: number, plan?: string): Promise<void> {
  const path = join(dir, `a${n}.json`);
  await writeFile(path, fileText(n, plan));
  const old = new Date(Date.now() - 60_000);
  await utimes(path, old, old);
}

const backends = [
  { name: 'sqlite', skip: false as const, databaseUrl: async (): Promise<string | undefined> => undefined },
  {
    name: 'postgres',
    skip: pgServer === null && 'PostgreSQL unavailable (see message above)',
    databaseUrl: async () => pgServer!.createDatabase('accounts_generation'),
  },
];

for (const backend of backends) {
  describe(`Fleet.accounts on ${backend.name}`, { skip: backend.skip }, () => {
    it('compares only after the files or the accounts table changed, and writes what today would', async () => {
      const dir = join(root, backend.name, 'account');
      await mkdir(dir, { recursive: true });
      for (const n of [1, 2, 3]) await writeAuthFile(dir, n);
      const config = resolveConfig(
        { dataDir: join(root, backend.name, 'data'), accountDir: dir, databaseUrl: await backend.databaseUrl() },
        {},
      );
      const fleet = await Fleet.open(config);
      const changed = mock.method(AccountsRepo.prototype, 'changed');
      try {
        /** One load; how many comparisons it made, and the accounts' source fields as returned. */
        const load = async (options: { tokens?: boolean } = {}) => {
          const calls = changed.mock.callCount();
          const { accounts } = await fleet.accounts(options);
          return {
            compared: changed.mock.callCount() - calls,
            accounts: accounts.map((a) => [a.id, a.email, a.plan, a.disabled]),
          };
        };
        const first = await load();
        assert.equal(first.compared, 1);
        assert.equal(first.accounts.length, 3);
        assert.deepEqual(await load(), { ...first, compared: 0 }, 'unchanged: no comparison, same accounts');
        assert.deepEqual(await load({ tokens: false }), { ...first, compared: 0 }, 'state readers skip it too');

        await fleet.repos.accounts.setDisabled('acc-2:u2', true);
        assert.equal((await load({ tokens: false })).compared, 1, 'a write by another path: compared');
        assert.equal((await fleet.repos.accounts.get('acc-2:u2'))?.disabled, false, 'and restored, as before');
        assert.equal((await load()).compared, 0);

        await fleet.repos.db.run("DELETE FROM accounts WHERE id = 'acc-3:u3'");
        assert.equal((await load()).compared, 1, 'a deleted row: compared');
        assert.equal((await fleet.repos.accounts.get('acc-3:u3'))?.email, '3@example.com', 'and written again');

        await writeAuthFile(dir, 1, 'pro');
        const upgraded = await load({ tokens: false });
        assert.equal(upgraded.compared, 1, 'a changed auth file: compared');
        assert.deepEqual(upgraded.accounts[0], ['acc-1:u1', '1@example.com', 'pro', false]);
        assert.equal((await fleet.repos.accounts.get('acc-1:u1'))?.plan, 'pro', 'and the new plan written');
        assert.equal((await load()).compared, 0);
      } finally {
        changed.mock.restore();
        await fleet.close();
      }
    });
  });
}
