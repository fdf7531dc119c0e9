// The single-file auth routes against the real core: a codex-multi-auth file is refused (409, saying
// why and what to do) by GET, save, edit and delete alike, and JSON `POST /auth/save` takes the
// form's and codex-quota's field names (issue 15, items 9 and 11).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RealApp, startRealApp } from '../../test/hostile/real-app.ts';
import { ApiClient } from '../../test/support/fleet-server.ts';
import { MULTI_AUTH_FILE } from '../sim/auth-files.ts';

let app: RealApp;
let api: ApiClient;
const MULTI = MULTI_AUTH_FILE.replace(/\.json$/, '');

before(async () => {
  app = await startRealApp({ accounts: 8 });
  api = await new ApiClient(app.url).start();
});
after(() => app.close());

async function refused(res: Response, what: string): Promise<void> {
  assert.equal(res.status, 409, `${what} → ${res.status}`);
  const { error } = (await res.json()) as { error: string };
  assert.match(error, /codex-multi-auth file holding 2 accounts/, `${what} says why`);
  assert.match(error, /accounts remove/, `${what} says what to do`);
}

describe('a codex-multi-auth file through the single-file routes', () => {
  it('is refused with 409 by every route, and the file is unchanged', async () => {
    const path = join(app.accountDir, MULTI_AUTH_FILE);
    const before = await readFile(path, 'utf8');
    await refused(await api.request('GET', `/api/auth-files/${MULTI}`), 'GET');
    await refused(await api.request('DELETE', `/api/auth-files/${MULTI}`), 'DELETE');
    await refused(await api.request('PUT', `/api/auth-files/${MULTI}`, { email: 'x@example.com' }), 'PUT');
    await refused(
      await api.request('POST', '/auth/save', { name: MULTI, access_token: 'a'.repeat(40) }),
      'POST /auth/save (JSON)',
    );
    await refused(
      await api.request(
        'POST',
        '/auth/save',
        new URLSearchParams({ name: MULTI, access_token: 'a'.repeat(40) }).toString(),
        {
          'content-type': 'application/x-www-form-urlencoded',
        },
      ),
      'POST /auth/save (form)',
    );
    await refused(
      await api.request('POST', '/auth/delete', new URLSearchParams({ name: MULTI }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      'POST /auth/delete',
    );
    assert.equal(await readFile(path, 'utf8'), before, 'the multi-account file is untouched');
    const accounts = await api.json<{ accounts: unknown[] }>('GET', '/api/accounts');
    assert.equal(accounts.body.accounts.length, 8, 'every account is still there');
  });

  it('GET and DELETE agree on a name that does not exist: both 404', async () => {
    assert.equal((await api.request('GET', '/api/auth-files/no-such-file')).status, 404);
    assert.equal((await api.request('DELETE', '/api/auth-files/no-such-file')).status, 404);
  });
});

describe('JSON POST /auth/save', () => {
  it("takes codex-quota's snake_case names, like the form", async () => {
    const res = await api.request('POST', '/auth/save', {
      name: 'snake-case',
      format: 'codex-quota',
      access_token: 'at_snake_0123456789',
      refresh_token: 'rt_snake_0123456789',
      account_id: 'acct-snake',
    });
    assert.equal(res.status, 200, await res.clone().text());
    const saved = JSON.parse(await readFile(join(app.accountDir, 'snake-case.json'), 'utf8'));
    assert.equal(saved.access_token, 'at_snake_0123456789');
    assert.equal(saved.account_id, 'acct-snake');
  });

  it('takes the camelCase names too, and refuses both spellings with different values', async () => {
    const ok = await api.request('POST', '/auth/save', { name: 'camel-case', accessToken: 'at_camel_0123456789' });
    assert.equal(ok.status, 200, await ok.clone().text());
    const clash = await api.request('POST', '/auth/save', {
      name: 'clash',
      accessToken: 'at_one_0123456789',
      access_token: 'at_two_0123456789',
    });
    assert.equal(clash.status, 400);
    assert.match(((await clash.json()) as { error: string }).error, /accessToken and access_token/);
  });

  it('still refuses a field it does not know, by name', async () => {
    const res = await api.request('POST', '/auth/save', {
      name: 'unknown',
      access_token: 'at_x_0123456789',
      colour: 1,
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /colour/);
  });
});
