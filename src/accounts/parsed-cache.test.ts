import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../core/config.ts';
import { Fleet } from '../core/fleet.ts';
import { mintTokens } from '../sim/tokens.ts';
import { openStore } from '../store/open.ts';
import { FRESH_MS, ParsedFileCache } from './parsed-cache.ts';
import { authDirSource } from './sources/index.ts';

const nowS = Math.floor(Date.now() / 1000);
const tokensFor = (n: number) =>
  mintTokens({ accountId: `acc-${n}`, userId: `u${n}`, email: `${n}@example.com`, plan: 'team' }, nowS, nowS + 3600);
const fileText = (n: number) => JSON.stringify({ access_token: tokensFor(n).accessToken, account_id: `acc-${n}` });

/** Sets a file's mtime well outside FRESH_MS, as an unchanged file on a real machine has. */
const age = (path: string) => utimes(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

describe('parsed-account cache', () => {
  let root: string;
  let dir: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fleet-parsed-cache-'));
    dir = join(root, 'account');
    await mkdir(dir);
    for (const n of [1, 2, 3]) {
      await writeFile(join(dir, `a${n}.json`), fileText(n));
      await age(join(dir, `a${n}.json`));
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** One run of the auth-dir source through a cache restored from the previous run's JSON. */
  async function run(stored: unknown) {
    const cache = new ParsedFileCache(stored === null ? null : JSON.parse(JSON.stringify(stored)));
    const load = await authDirSource(dir, cache.loadFile).load();
    return { cache, load, stored: cache.toJSON() };
  }

  it('reads every file once, then answers unchanged files from the cache with the same accounts', async () => {
    const first = await run(null);
    assert.deepEqual(first.cache.stats, { hits: 0, reads: 3 });
    assert.equal(first.cache.changed, true);
    const second = await run(first.stored);
    assert.deepEqual(second.cache.stats, { hits: 3, reads: 0 });
    assert.equal(second.cache.changed, false, 'nothing to write back when nothing changed');
    assert.deepEqual(second.load, first.load);
    assert.deepEqual(
      second.load.accounts.map((a) => a.id),
      ['acc-1:u1', 'acc-2:u2', 'acc-3:u3'],
    );
  });

  it('a rewrite of the same size with the old mtime put back is still seen (ctime changes)', async () => {
    const warm = (await run(null)).stored;
    const path = join(dir, 'a2.json');
    const before = await stat(path);
    // Same length, other content: account 5's tokens are as long as account 2's.
    const replacement = fileText(5);
    assert.equal(replacement.length, (await readFile(path, 'utf8')).length, 'test needs an equal-size rewrite');
    await writeFile(path, replacement);
    await utimes(path, before.atime, before.mtime);
    const after = await run(warm);
    assert.deepEqual(after.cache.stats, { hits: 2, reads: 1 });
    assert.ok(after.load.accounts.some((a) => a.id === 'acc-5:u5'));
    assert.ok(!after.load.accounts.some((a) => a.id === 'acc-2:u2'));
    await writeFile(path, fileText(2));
    await age(path);
  });

  it(`a file modified within ${FRESH_MS} ms is read on every run and not cached`, async () => {
    const warm = (await run(null)).stored;
    await writeFile(join(dir, 'a3.json'), fileText(3)); // mtime now
    const one = await run(warm);
    assert.deepEqual(one.cache.stats, { hits: 2, reads: 1 });
    const two = await run(one.stored);
    assert.deepEqual(two.cache.stats, { hits: 2, reads: 1 }, 'still fresh: read again');
    await age(join(dir, 'a3.json'));
  });

  it('a deleted file is forgotten and a new one is read', async () => {
    const warm = (await run(null)).stored;
    await unlink(join(dir, 'a1.json'));
    await writeFile(join(dir, 'a4.json'), fileText(4));
    await age(join(dir, 'a4.json'));
    const next = await run(warm);
    assert.equal(next.cache.changed, true);
    assert.deepEqual(
      next.load.accounts.map((a) => a.id),
      ['acc-2:u2', 'acc-3:u3', 'acc-4:u4'],
    );
    assert.deepEqual(
      next.stored.entries.map(([p]) => p),
      ['a2.json', 'a3.json', 'a4.json'].map((n) => join(dir, n)),
    );
  });

  it('holds no token: every token is masked, in the returned accounts and in the store', async () => {
    const { load, stored } = await run(null);
    // Every token starts with the same JWT header: its first 40 characters appear only if a token does.
    const secrets = [tokensFor(2).accessToken];
    for (const a of load.accounts) {
      assert.ok(a.credentials.accessToken && a.credentials.accessToken.length <= 9, 'a mask, not a token');
    }
    const text = JSON.stringify(stored);
    for (const t of secrets) assert.ok(!text.includes(t.slice(0, 40)), 'no token in what is stored');
  });

  it('through the fleet: state readers get the cached accounts, token users the real ones; a damaged row is a miss', async () => {
    const dataDir = join(root, 'data');
    const config = resolveConfig({ dataDir, accountDir: dir }, {});
    const fleet = await Fleet.open(config);
    try {
      const real = (await fleet.accounts()).accounts;
      const cached = (await fleet.accounts({ tokens: false })).accounts;
      assert.deepEqual(
        cached.map((a) => a.id),
        real.map((a) => a.id),
      );
      const onDisk = JSON.parse(await readFile(join(dir, 'a2.json'), 'utf8')) as { access_token: string };
      assert.equal(real[0].credentials.accessToken, onDisk.access_token, 'accounts() still reads the files');
      assert.notEqual(cached[0].credentials.accessToken, real[0].credentials.accessToken);
    } finally {
      await fleet.close();
    }
    const db = await openStore({ dataDir });
    try {
      const rows = await db.query<{ value: string }>('SELECT value FROM auth_file_cache');
      assert.equal(rows.length, 1);
      assert.ok(!rows[0].value.includes(tokensFor(2).accessToken.slice(0, 40)), 'no JWT in the row');
      await db.run("UPDATE auth_file_cache SET value = '{not json'");
    } finally {
      await db.close();
    }
    const again = await Fleet.open(config);
    try {
      const report = await again.healthReport();
      assert.deepEqual(
        report.accounts.map((a) => a.accountId).sort(),
        ['acc-2', 'acc-3', 'acc-4'],
        'a damaged cache costs one slower run, never an account',
      );
    } finally {
      await again.close();
    }
  });
});
