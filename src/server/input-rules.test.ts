// The API's one input rule against the real core (issue 15): list parameters share one schema and one
// message on every list route, and an unknown field in a query string or a JSON body is refused by name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RealApp, startRealApp } from '../../test/hostile/real-app.ts';
import { ApiClient } from '../../test/support/fleet-server.ts';

let app: RealApp;
let api: ApiClient;

before(async () => {
  app = await startRealApp({ accounts: 2 });
  api = await new ApiClient(app.url).start();
});
after(() => app.close());

async function error(res: Response, status = 400): Promise<string> {
  assert.equal(res.status, status, `${res.url} → ${res.status}`);
  return ((await res.json()) as { error: string }).error;
}

describe('list parameters', () => {
  const LISTS = ['/api/actions', '/api/audit', '/api/inspections'];

  it('limit=abc is a 400 with the same message on every list route', async () => {
    const messages = await Promise.all(LISTS.map(async (p) => error(await api.request('GET', `${p}?limit=abc`))));
    for (const m of messages) assert.equal(m, 'invalid query: limit: limit must be a whole number from 1 to 500');
  });

  it('limit=0, limit=501, offset=-1 and limit=1.5 are refused alike; good values answer 200', async () => {
    for (const p of LISTS) {
      for (const q of ['limit=0', 'limit=501', 'offset=-1', 'limit=1.5', 'limit=']) {
        assert.match(await error(await api.request('GET', `${p}?${q}`)), /must be a whole number/, `${p}?${q}`);
      }
      assert.equal((await api.request('GET', `${p}?limit=5&offset=0`)).status, 200, p);
    }
  });
});

describe('unknown fields', () => {
  it('in a query string: refused by name on list and action routes', async () => {
    for (const [method, path] of [
      ['GET', '/api/audit?colour=red'],
      ['GET', '/api/actions?colour=red'],
      ['GET', '/api/inspections?colour=red'],
      ['POST', '/api/refresh?colour=red'],
    ] as const) {
      assert.match(await error(await api.request(method, path)), /colour/, `${method} ${path}`);
    }
  });

  it('in a JSON body: PUT /api/schedule with an unknown field is refused by name, nothing saved', async () => {
    const { schedule: shown } = (await api.json<{ schedule: Record<string, unknown> }>('GET', '/api/schedule')).body;
    // nextRunAt is derived: shown, never sent (the dashboard's form sends the six editable fields).
    const { nextRunAt: _derived, ...schedule } = shown;
    assert.match(await error(await api.request('PUT', '/api/schedule', { ...schedule, colour: 'red' })), /colour/);
    const after = (await api.json<{ schedule: Record<string, unknown> }>('GET', '/api/schedule')).body.schedule;
    assert.deepEqual(after, shown);
    assert.equal((await api.request('PUT', '/api/schedule', schedule)).status, 200, 'the same body without it is fine');
  });
});
