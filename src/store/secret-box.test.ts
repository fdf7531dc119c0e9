// Stored credentials are sealed with a key that is not in the database: a configured CPA management
// key is nowhere in the SQLite files, a PostgreSQL dump, or a `db copy`; the right key opens it, a
// missing or wrong key is a clear error. Real SQLite files and a real PostgreSQL server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findPostgresBin } from '../../test/setup/system-packages.ts';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { CpaServers } from '../cpa/servers.ts';
import { copyDatabase } from './copy.ts';
import { openDatabase, openStore, parseDatabaseSpec } from './open.ts';
import { SECRET_KEY_ENV, SECRET_KEY_FILE, SecretBox, SecretKeyError, secretKeys } from './secret-box.ts';
import { SettingsRepo } from './settings-repo.ts';

// Started before any test is registered: the root's after() must not run before the PostgreSQL suite.
const pgServer: PostgresServer | null = await startPostgres();
const CPA_KEY = 'cpa-management-key-SENTINEL-7f3a9c2e';
const root = mkdtempSync(join(tmpdir(), 'cf-secret-box-'));
after(async () => {
  await pgServer?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Every byte of every file under dir, searched for the needle (SQLite keeps fresh pages in -wal). */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => readFileSync(f).includes(Buffer.from(needle)));
}

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox('x'.repeat(40), 'test');
  it('round-trips, never shows the plaintext, and binds the value to its context', () => {
    const sealed = box.seal(CPA_KEY, 'setting a');
    assert.doesNotMatch(sealed, /SENTINEL/);
    assert.notEqual(box.seal(CPA_KEY, 'setting a'), sealed, 'a fresh IV every time');
    assert.equal(box.open(sealed, 'setting a'), CPA_KEY);
    assert.throws(() => box.open(sealed, 'setting b'), /setting b: the stored secret is damaged/);
    // One bit of the ciphertext flipped in the decoded bytes (editing a base64 character could leave it
    // unchanged, when it already was the replacement, or touch only unused bits: a 1-in-64 pass).
    const head = sealed.slice(0, sealed.lastIndexOf(':') + 1);
    const raw = Buffer.from(sealed.slice(head.length), 'base64url');
    raw[raw.length - 1] ^= 0x01;
    const flipped = head + raw.toString('base64url');
    assert.notEqual(flipped, sealed);
    assert.throws(() => box.open(flipped, 'setting a'), SecretKeyError);
  });
  it('a different key is refused by key id, saying how to fix it', () => {
    const other = new SecretBox('y'.repeat(40), 'CODEX_FLEET_SECRET_KEY');
    assert.throws(
      () => other.open(box.seal('v', 'setting a'), 'setting a'),
      (e: Error) =>
        e instanceof SecretKeyError && /key id [0-9a-f]{8}/.test(e.message) && /CODEX_FLEET_SECRET_KEY/.test(e.message),
    );
  });
  it('a short CODEX_FLEET_SECRET_KEY or a key file others can read is refused', () => {
    assert.throws(() => secretKeys({ dataDir: root, env: { [SECRET_KEY_ENV]: 'short' } }).forSeal(), /too short/);
    const dir = join(root, 'loose');
    secretKeys({ dataDir: dir, env: {} }).forSeal();
    execFileSync('chmod', ['644', join(dir, SECRET_KEY_FILE)]);
    assert.throws(() => secretKeys({ dataDir: dir, env: {} }).forOpen(), /chmod 600/);
  });
});

describe('CPA management keys in SQLite', () => {
  it('are sealed on disk with a generated 0600 key file, and read back by the next process', async () => {
    const dataDir = join(root, 'sqlite');
    const db = await openStore({ dataDir, env: {} });
    const added = await new CpaServers(new SettingsRepo(db)).upsert({
      name: 'main',
      url: 'http://127.0.0.1:8317',
      managementKey: CPA_KEY,
    });
    assert.ok(added.ok);
    const hook = 'https://hooks.slack.com/services/T000/B000/WEBHOOK-SENTINEL';
    await new SettingsRepo(db).set('notify.settings', { webhooks: [{ url: hook, format: 'slack' }] });
    await db.close();
    assert.deepEqual(filesHolding(dataDir, 'WEBHOOK-SENTINEL'), [], 'webhook URLs carry secrets too');
    assert.equal(statSync(join(dataDir, SECRET_KEY_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(filesHolding(dataDir, CPA_KEY), [], 'grep of the data dir finds the key nowhere');
    assert.deepEqual(filesHolding(dataDir, 'http://127.0.0.1:8317'), [], 'the whole setting is sealed');
    const again = await openStore({ dataDir, env: {} });
    assert.equal((await new CpaServers(new SettingsRepo(again)).config('main'))?.managementKey, CPA_KEY);
    await again.close();
  });

  it('without the key file, or with another key, reading says so instead of failing obscurely', async () => {
    const dataDir = join(root, 'sqlite');
    const moved = join(root, 'moved');
    cpSync(dataDir, moved, { recursive: true, filter: (src) => !src.endsWith(SECRET_KEY_FILE) });
    const db = await openStore({ dataDir: moved, env: {} });
    await assert.rejects(
      new CpaServers(new SettingsRepo(db)).list(),
      (e: Error) =>
        e instanceof SecretKeyError &&
        /setting cpa\.servers: the stored secret is encrypted \(key id [0-9a-f]{8}\) but no key was found/.test(
          e.message,
        ) &&
        /CODEX_FLEET_SECRET_KEY/.test(e.message),
    );
    await db.close();
    const wrong = await openStore({ dataDir: moved, env: { [SECRET_KEY_ENV]: 'z'.repeat(44) } });
    await assert.rejects(
      new SettingsRepo(wrong).get('cpa.servers'),
      /encrypted with key id .* but the key from CODEX_FLEET_SECRET_KEY has id/,
    );
    await wrong.close();
  });

  it('a key stored in clear by an older version is sealed when the store is next opened', async () => {
    const dataDir = join(root, 'legacy');
    const first = await openStore({ dataDir, env: {} });
    const plain = JSON.stringify([
      { name: 'old', url: 'http://127.0.0.1:8317', managementKey: CPA_KEY, breaker: null },
    ]);
    await first.run('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', ['cpa.servers', plain, 1]);
    await first.close();
    assert.notDeepEqual(filesHolding(dataDir, CPA_KEY), [], 'the legacy row is there in clear');
    const db = await openStore({ dataDir, env: {} });
    assert.deepEqual(filesHolding(dataDir, CPA_KEY), [], 'not even in free pages or the WAL');
    await db.close();
    const again = await openStore({ dataDir, env: {} });
    assert.equal((await new CpaServers(new SettingsRepo(again)).config('old'))?.managementKey, CPA_KEY);
    await again.close();
  });
});

describe('CPA management keys in PostgreSQL and through `db copy`', { skip: pgServer === null }, () => {
  const dump = (url: string) =>
    execFileSync(`${findPostgresBin()}/pg_dump`, ['--data-only', '--dbname', url], { encoding: 'utf8' });

  it('the PostgreSQL backend holds them sealed; a dump does not contain the key', async () => {
    const url = await pgServer!.createDatabase('secret');
    const dataDir = join(root, 'pg');
    const db = await openStore({ databaseUrl: url, dataDir, env: {} });
    assert.ok(
      (
        await new CpaServers(new SettingsRepo(db)).upsert({
          name: 'pg',
          url: 'http://127.0.0.1:8317',
          managementKey: CPA_KEY,
        })
      ).ok,
    );
    await db.close();
    const text = dump(url);
    assert.match(text, /cfsecret:v1:/, 'the dump has the sealed setting');
    assert.doesNotMatch(text, /SENTINEL/);
    const again = await openStore({ databaseUrl: url, dataDir, env: {} });
    assert.equal((await new CpaServers(new SettingsRepo(again)).config('pg'))?.managementKey, CPA_KEY);
    await again.close();
  });

  it('`db copy` from SQLite keeps them sealed, and the same key opens them on the other side', async () => {
    const dataDir = join(root, 'sqlite');
    const url = await pgServer!.createDatabase('copied');
    const to = await openStore({ databaseUrl: url, dataDir, env: {} });
    await to.close();
    const from = await openDatabase(parseDatabaseSpec(`sqlite:${join(dataDir, 'codex-fleet.db')}`), {
      mustExist: true,
    });
    const target = await openDatabase(parseDatabaseSpec(url));
    await copyDatabase(from, target, { force: true });
    await from.close();
    await target.close();
    assert.doesNotMatch(dump(url), /SENTINEL/);
    const db = await openStore({ databaseUrl: url, dataDir, env: {} });
    assert.equal((await new CpaServers(new SettingsRepo(db)).config('main'))?.managementKey, CPA_KEY);
    await db.close();
  });
});
