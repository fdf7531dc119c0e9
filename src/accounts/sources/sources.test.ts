import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mintTokens } from '../../sim/tokens.ts';
import { authDirSource, codexHomeSource, loadAll, multiAuthSource } from './index.ts';

const now = Math.floor(Date.now() / 1000);
const t = mintTokens({ accountId: 'acc-1', userId: 'u1', email: 'one@example.com', plan: 'team' }, now, now + 3600);

describe('account sources', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fleet-sources-'));
    const dir = join(root, 'account');
    await mkdir(dir);
    await writeFile(join(dir, 'good.auth.json'), JSON.stringify({ access_token: t.accessToken, account_id: 'acc-1' }));
    await writeFile(join(dir, 'broken.json'), '{"type":"codex","access_token":"eyJ');
    await writeFile(join(dir, 'gemini-x.json'), '{"type":"gemini"}');
    await writeFile(join(dir, '.codex-x.json.tmp-1-ab'), 'half');
    await writeFile(join(dir, '.good.auth.json.refresh-journal'), '{}');
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await mkdir(join(dir, 'sub.json'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('auth-dir: good files load, each bad file is one error naming it, temp/lock/journal files are skipped', async () => {
    const load = await authDirSource(join(root, 'account')).load();
    assert.deepEqual(
      load.accounts.map((a) => [a.name, a.id, a.email, a.plan, a.sourceKind]),
      [['good', 'acc-1:u1', 'one@example.com', 'team', 'auth-dir']],
    );
    assert.equal(load.errors.length, 2);
    assert.match(load.errors[0].message, /broken\.json: not valid JSON/);
    assert.match(load.errors[1].message, /gemini-x\.json: .*type "gemini"/);
  });

  it('auth-dir: a missing directory is one clear error', async () => {
    const load = await authDirSource(join(root, 'nope')).load();
    assert.equal(load.accounts.length, 0);
    assert.match(load.errors[0].message, /nope: no such file/);
  });

  it('codex-home: no auth.json is no account and no error; a bad one is an error', async () => {
    assert.deepEqual(await codexHomeSource(join(root, 'empty-home')).load(), { accounts: [], errors: [] });
    const home = join(root, 'home');
    await mkdir(home);
    await writeFile(join(home, 'auth.json'), '{"OPENAI_API_KEY":"sk-test","tokens":null}');
    const load = await codexHomeSource(home).load();
    assert.match(load.errors[0].message, /auth\.json: holds an API key only/);
  });

  it('multi-auth: named explicitly, so a missing file is an error; loadAll keeps the other sources', async () => {
    const all = await loadAll([multiAuthSource(join(root, 'missing.json')), authDirSource(join(root, 'account'))]);
    assert.equal(all.accounts.length, 1);
    assert.match(all.errors[0].message, /missing\.json: no such file/);
  });
});
