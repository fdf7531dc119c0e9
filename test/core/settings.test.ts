// Settings have one typed definition (src/core/settings.ts): the dashboard's PUT /api/settings and
// `codex-fleet settings set` take the same change through the real core, refuse the same bad input
// with the same message, and what is saved is what the probe sweep reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECRET_SETTING_KEYS, SETTINGS } from '../../src/core/settings.ts';
import { SECRET_SETTINGS } from '../../src/store/settings-repo.ts';
import { runCli } from '../support/cli.ts';
import { ApiClient, startTestServer, type TestServer } from '../support/fleet-server.ts';

type J = Record<string, any>;

describe('settings: one definition for the core, the API and the CLI', () => {
  let s: TestServer;
  let api: ApiClient;
  const cli = (...args: string[]) =>
    runCli(['settings', ...args, '--data-dir', s.fleet.fleet.config.dataDir], {
      env: { CODEX_FLEET_ACCOUNT_DIR: s.accountDir },
    });

  before(async () => {
    s = await startTestServer({ accounts: 2, initialRefresh: false });
    api = await new ApiClient(s.url).start();
  });
  after(async () => {
    await s?.close();
  });

  it('the store seals exactly the keys the definition marks secret', () => {
    assert.deepEqual([...SECRET_SETTING_KEYS].sort(), [...SECRET_SETTINGS].sort());
  });

  it('refuses unknown fields, naming them, from either face', async () => {
    const bad = { policy: { autoDisable: true, autoDisabel: false }, probeConcurency: 3 };
    const viaApi = await api.json<J>('PUT', '/api/settings', bad);
    assert.equal(viaApi.status, 400);
    assert.match(viaApi.body.error, /unknown setting probeConcurency/);
    assert.match(viaApi.body.error, /unknown setting policy\.autoDisabel/);
    const viaCli = await cli('set', JSON.stringify(bad));
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.stderr, /unknown setting probeConcurency/);
    assert.match(viaCli.stderr, /unknown setting policy\.autoDisabel/);
    const notObject = await api.json<J>('PUT', '/api/settings', [1]);
    assert.equal(notObject.status, 400);
    assert.match(notObject.body.error, /must be a JSON object/);
    const stored = (await api.json<J>('GET', '/api/settings')).body.settings;
    assert.equal(stored.policy.autoDisable, SETTINGS.policy.default.autoDisable, 'nothing of a refused change saved');
  });

  it('a CLI change is what the dashboard shows and what the sweep uses', async () => {
    const set = await cli('set', JSON.stringify({ probeConcurrency: 7, thresholds: { '5h': { enabled: true } } }));
    assert.equal(set.code, 0, set.stderr);
    assert.equal(JSON.parse(set.stdout).probeConcurrency, 7);
    const shown = (await api.json<J>('GET', '/api/settings')).body.settings;
    assert.equal(shown.probeConcurrency, 7);
    assert.equal(shown.thresholds['5h'].enabled, true);
    assert.equal(shown.thresholds['5h'].disableAtUsedPercent, SETTINGS.thresholds.default['5h'].disableAtUsedPercent);
    assert.equal(await s.fleet.fleet.probeConcurrency(), 7, 'the sweep reads the saved setting');
    const viaApi = await api.json<J>('PUT', '/api/settings', { probeConcurrency: 21 });
    assert.equal(viaApi.status, 400);
    assert.match(viaApi.body.error, /probeConcurrency: probeConcurrency is 1-20/);
    const show = await cli('show');
    assert.equal(show.code, 0, show.stderr);
    assert.equal(JSON.parse(show.stdout).probeConcurrency, 7);
  });
});
