// The CPA executor against the REAL CPA: idempotent disable/enable/delete, the file on disk changes,
// and failures (unknown server, bad key: one 401 only) are outcomes, not throws.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { type StartedCpa, tryStartCpa, waitForAuthFiles, writeCodexAuthFile } from '../../../test/support/cpa.ts';
import { CpaServers } from '../../cpa/servers.ts';
import { loadCpaAccounts } from '../../cpa/source.ts';
import type { Account } from '../../domain/account.ts';
import { openStore } from '../../store/open.ts';
import { SettingsRepo } from '../../store/settings-repo.ts';
import { CpaExecutor } from './cpa.ts';

const started = await tryStartCpa();
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
const db = await openStore({ databaseUrl: 'sqlite::memory:' });
const servers = new CpaServers(new SettingsRepo(db));
const executor = new CpaExecutor(servers);
after(async () => {
  await cpa?.stop();
  await db.close();
});

async function account(email: string): Promise<Account> {
  const client = await servers.client('main');
  assert.ok(client.ok);
  const accounts = await loadCpaAccounts(client.value);
  assert.ok(accounts.ok);
  const found = accounts.value.find((a) => a.email === email);
  assert.ok(found, `${email} listed`);
  return found;
}

describe('CpaExecutor against the real CPA', { skip }, () => {
  test('disable and enable are idempotent and reach the file', async () => {
    assert.ok(cpa);
    assert.ok((await servers.upsert({ name: 'main', url: cpa.url, managementKey: cpa.key })).ok);
    const f = await writeCodexAuthFile(cpa.authDir, { email: 'x@example.com' });
    await waitForAuthFiles(cpa, [f.name]);
    const a = await account('x@example.com');

    assert.deepEqual(await executor.setDisabled(a, true), {
      ok: true,
      changed: true,
      message: `disabled ${f.name} on CPA server "main"`,
    });
    assert.equal(JSON.parse(await readFile(f.path, 'utf8')).disabled, true);
    const twice = await executor.setDisabled(a, true);
    assert.deepEqual(twice, { ok: true, changed: false, message: 'already disabled on CPA' });
    const on = await executor.setDisabled(a, false);
    assert.equal(on.changed, true);
    assert.equal(JSON.parse(await readFile(f.path, 'utf8')).disabled, false);
  });

  test('delete twice: deleted, then already deleted; status change of a gone file fails clearly', async () => {
    assert.ok(cpa);
    const f = await writeCodexAuthFile(cpa.authDir, { email: 'y@example.com' });
    await waitForAuthFiles(cpa, [f.name]);
    const a = await account('y@example.com');
    const first = await executor.delete(a);
    assert.deepEqual(first, { ok: true, changed: true, message: `deleted ${f.name} on CPA server "main"` });
    const second = await executor.delete(a);
    assert.deepEqual(second, { ok: true, changed: false, message: 'already deleted on CPA' });
    const gone = await executor.setDisabled(a, true);
    assert.equal(gone.ok, false);
    assert.match(gone.message, /no longer on CPA/);
  });

  test('a non-CPA account, an unknown server and a bad key are failed outcomes', async () => {
    assert.ok(cpa);
    const local = { ...(await account('x@example.com')), id: 'local-1' } as Account & { cpa?: unknown };
    delete local.cpa;
    assert.match((await executor.setDisabled(local, true)).message, /not a CPA account/);
    const elsewhere = { ...local, id: 'cpa:other:codex-x@example.com.json' };
    assert.match((await executor.delete(elsewhere)).message, /no CPA server named "other"/);

    const wrongKey = 'wrong-key-for-executor-0000';
    assert.ok((await servers.upsert({ name: 'main', url: cpa.url, managementKey: wrongKey })).ok);
    const denied = await executor.setDisabled(await accountWithoutListing('x@example.com'), true);
    assert.equal(denied.ok, false);
    assert.match(denied.message, /rejected/);
    assert.ok(!denied.message.includes(wrongKey));
    const stopped = await executor.delete(await accountWithoutListing('x@example.com'));
    assert.match(stopped.message, /calls stopped/);
  });
});

/** Builds the account reference by id only, so no listing (with the bad key) is needed. */
async function accountWithoutListing(email: string): Promise<Account> {
  return {
    id: `cpa:main:codex-${email}.json`,
    name: `codex-${email}`,
    email,
    plan: null,
    userId: null,
    accountId: null,
    format: 'cpa',
    sourceKind: 'cpa',
    sourcePath: null,
    sourceIndex: null,
    disabled: false,
    credentials: {
      accessToken: null,
      refreshToken: null,
      idToken: null,
      accountId: null,
      expiresAt: null,
      lastRefresh: null,
    },
    addedAt: null,
    lastUsed: null,
  };
}
