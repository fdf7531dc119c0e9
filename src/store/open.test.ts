// Choosing and opening the store: defaults, env, flags, directory and file modes, clear errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore, parseDatabaseSpec, resolveTarget } from './open.ts';

const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-open-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('resolveTarget', () => {
  // Flags over environment is resolved in core/config.ts (resolveStoreLocation, tested there).
  it('defaults to ./data/codex-fleet.db; a URL picks its database; the environment is not read', () => {
    const saved = process.env.CODEX_FLEET_DATABASE_URL;
    process.env.CODEX_FLEET_DATABASE_URL = 'postgres://u:p@h/db';
    try {
      assert.deepEqual(resolveTarget(), { kind: 'sqlite', path: resolve('data', 'codex-fleet.db') });
    } finally {
      if (saved === undefined) delete process.env.CODEX_FLEET_DATABASE_URL;
      else process.env.CODEX_FLEET_DATABASE_URL = saved;
    }
    assert.deepEqual(resolveTarget({ dataDir: '/srv/fleet' }), { kind: 'sqlite', path: '/srv/fleet/codex-fleet.db' });
    assert.deepEqual(resolveTarget({ databaseUrl: 'postgres://u:p@h/db' }), {
      kind: 'postgres',
      url: 'postgres://u:p@h/db',
    });
    assert.deepEqual(resolveTarget({ databaseUrl: 'sqlite:/x/y.db' }), { kind: 'sqlite', path: '/x/y.db' });
    assert.equal(resolveTarget({ databaseUrl: '' }).kind, 'sqlite', 'empty means unset');
  });

  it('rejects unknown schemes without echoing a password', () => {
    assert.throws(
      () => parseDatabaseSpec('mysql://root:hunter2@h/db'),
      (e: Error) => {
        assert.match(e.message, /unsupported database/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      },
    );
    assert.throws(() => parseDatabaseSpec('sqlite:'), /has no file/);
  });
});

describe('openStore', () => {
  it('creates the data dir 0700 and the database 0600, migrated', async () => {
    const dir = join(tmp, 'fresh', 'nested');
    const db = await openStore({ dataDir: dir, env: {} });
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, 'codex-fleet.db')).mode & 0o777, 0o600);
      const row = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations');
      assert.ok(Number(row?.n) >= 1);
      const pragma = async (name: string) => Object.values((await db.get(`PRAGMA ${name}`))!)[0];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 1, 'NORMAL');
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('busy_timeout'), 5000);
    } finally {
      await db.close();
    }
  });

  it('says what is wrong when the data dir cannot be used', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(openStore({ dataDir: file, env: {} }), /data directory .*a-file/);
    await assert.rejects(openStore({ dataDir: join(file, 'sub'), env: {} }), /cannot create data directory/);
  });

  it('says what is wrong when PostgreSQL is not there', async () => {
    await assert.rejects(
      openStore({ databaseUrl: 'postgres://fleet:pw-secret@127.0.0.1:1/fleet', env: {} }),
      (e: Error) => {
        assert.match(e.message, /cannot connect to PostgreSQL at postgres:\/\/fleet:\*\*\*\*@127\.0\.0\.1:1\/fleet/);
        assert.match(e.message, /ECONNREFUSED/);
        assert.doesNotMatch(e.message, /pw-secret/);
        return true;
      },
    );
    await assert.rejects(openStore({ databaseUrl: 'postgres://[bad', env: {} }), /invalid PostgreSQL URL/);
  });
});
