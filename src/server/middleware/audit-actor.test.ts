// The audit actor over the real core: the guard names the person (`person:local`, `person:admin-key`)
// and the core records exactly that, not `person:person:local`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RealApp, startRealApp } from '../../../test/hostile/real-app.ts';
import { ApiClient } from '../../../test/support/fleet-server.ts';

const KEY = 'audit-actor-admin-key-0123456789';

describe('audit actor over the real core (#12)', () => {
  let local: RealApp;
  let keyed: RealApp;
  before(async () => {
    [local, keyed] = await Promise.all([startRealApp({ accounts: 2 }), startRealApp({ accounts: 2, adminKey: KEY })]);
  });
  after(() => Promise.all([local.close(), keyed.close()]));

  type Audit = { entries: Array<{ actor: string; action: string }> };

  it('loopback without a key: person:local', async () => {
    const api = await new ApiClient(local.url).start();
    const id = (await api.json<{ accounts: Array<{ id: string }> }>('GET', '/api/accounts')).body.accounts[0].id;
    assert.equal((await api.request('POST', `/api/accounts/${id}/disable`)).status, 200);
    const audit = (await api.json<Audit>('GET', '/api/audit')).body.entries;
    assert.match(audit[0].action, /disable/i);
    assert.equal(audit[0].actor, 'person:local');
  });

  it('with the admin key header: person:admin-key', async () => {
    const headers = { 'x-admin-key': KEY };
    const accounts = (await (await fetch(`${keyed.url}/api/accounts`, { headers })).json()) as {
      accounts: Array<{ id: string }>;
    };
    const res = await fetch(`${keyed.url}/api/accounts/${accounts.accounts[0].id}/disable`, {
      method: 'POST',
      headers,
    });
    assert.equal(res.status, 200);
    const audit = (await (await fetch(`${keyed.url}/api/audit`, { headers })).json()) as Audit;
    assert.equal(audit.entries[0].actor, 'person:admin-key');
  });
});
