import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mintTokens } from '../sim/tokens.ts';
import { authDirSource } from './sources/auth-dir.ts';
import { setAccountDisabled, writeAccountTokens } from './write-back.ts';

const now = Math.floor(Date.now() / 1000);
const mint = (id: string) =>
  mintTokens({ accountId: id, userId: `u-${id}`, email: `${id}@example.com`, plan: 'plus' }, now, now + 3600);

describe('write-back', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-writeback-'));
    const a = mint('a');
    const b = mint('b');
    const q = mint('q');
    await writeFile(
      join(dir, 'pool.json'),
      `${JSON.stringify(
        {
          version: 3,
          accounts: [
            {
              email: 'a@example.com',
              accountId: 'a',
              refreshToken: a.refreshToken,
              accessToken: a.accessToken,
              enabled: true,
              x: 1,
            },
            {
              email: 'b@example.com',
              accountId: 'b',
              refreshToken: b.refreshToken,
              accessToken: b.accessToken,
              enabled: true,
            },
          ],
          activeIndex: 0,
        },
        null,
        '\t',
      )}\n`,
    );
    await writeFile(join(dir, 'q.auth.json'), JSON.stringify({ access_token: q.accessToken, account_id: 'q', z: [1] }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = async () => (await authDirSource(dir).load()).accounts;

  it('multi-auth: disable sets enabled=false on that entry only; the file keeps its tabs and newline', async () => {
    const before = await readFile(join(dir, 'pool.json'), 'utf8');
    const b = (await load()).find((x) => x.accountId === 'b')!;
    const r = await setAccountDisabled(b, true);
    assert.ok(r.ok && r.account.disabled);
    const after = await readFile(join(dir, 'pool.json'), 'utf8');
    assert.equal(after, before.replace(/("accountId": "b",[^}]*"enabled": )true/, '$1false'));
    assert.ok(!(await load()).find((x) => x.accountId === 'a')!.disabled);
  });

  it('codex-quota: tokens and the disabled flag, compact style kept', async () => {
    const q = (await load()).find((x) => x.accountId === 'q')!;
    const next = mint('q');
    const r = await writeAccountTokens(q, {
      accessToken: next.accessToken,
      refreshToken: next.refreshToken,
      idToken: null,
      expiresIn: 3600,
      refreshedAt: new Date(),
    });
    assert.ok(r.ok);
    assert.ok((await setAccountDisabled(r.account, true)).ok);
    const text = await readFile(join(dir, 'q.auth.json'), 'utf8');
    assert.equal(
      text,
      JSON.stringify({
        access_token: next.accessToken,
        account_id: 'q',
        z: [1],
        refresh_token: next.refreshToken,
        disabled: true,
      }),
    );
  });

  it('a vanished file or entry is an error value, not an exception', async () => {
    const [a] = await load();
    const gone = await setAccountDisabled({ ...a, sourcePath: join(dir, 'missing.json') }, true);
    assert.ok(!gone.ok && gone.code === 'source_unreadable' && /no such file/.test(gone.message));
    const moved = await setAccountDisabled(
      { ...a, id: 'zz', accountId: 'zz', email: 'zz@example.com', sourceIndex: 5 },
      true,
    );
    assert.ok(!moved.ok && moved.code === 'account_not_found');
    await unlink(join(dir, 'q.auth.json'));
  });
});
