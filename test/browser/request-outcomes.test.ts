// Issue 20 on the faces: local auth files proxied by CPA map by auth_index = sha256("codex:" + path);
// usage records for acct-01 (healthy) fail with 429 usage_limit_reached. The Accounts page shows the
// requests block on the card and the column in the table, /api/accounts and the report carry the
// outcomes, /metrics has the two per-account series, and Monitoring's Account Overview links the
// auth_index to the account's card (with its quota history).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authIndexFor } from '../../src/cpa/auth-index.ts';
import { launchBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/fleet-server.ts';
import { waitFor } from '../support/wait.ts';

let t: TestServer;
let id: string;
let hook: Server;
const hooked: Array<{ event?: { kind: string; accountName?: string; summary?: string } }> = [];
const index = () => authIndexFor('codex', join(t.accountDir, 'acct-01.json'));

function record(i: number, ok: boolean): Record<string, unknown> {
  return {
    timestamp: new Date(Date.now() + 1).toISOString(),
    latency_ms: 250,
    auth_index: index(),
    tokens: { input_tokens: 1000, output_tokens: ok ? 100 : 0, total_tokens: ok ? 1100 : 1000 },
    failed: !ok,
    fail: ok
      ? { status_code: 0, body: '' }
      : {
          status_code: 429,
          body: '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached"}}',
        },
    provider: 'codex',
    model: 'gpt-5-codex',
    endpoint: '/v1/responses',
    api_key: 'sk-client-0001-abcdefghijkl',
    request_id: `browser-${i}`,
  };
}

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hooked.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  t = await startTestServer({ accounts: 3 });
  id = await t.idOf('acct-01');
  await t.fleet.setSettings({
    notifications: {
      webhooks: [{ url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, format: 'json' }],
    },
  });
  await t.fleet.monitor!.service.ingest.ingestRaw([
    record(0, true),
    ...Array.from({ length: 6 }, (_, i) => record(i + 1, false)),
  ]);
  await t.fleet.requestOutcomes!.settled();
});

after(async () => {
  await t?.close();
  hook?.close();
});

describe('request outcomes on the faces', () => {
  it('a disagreement is announced by webhook (requests_disagree), and the account is left alone', async () => {
    const event = await waitFor(() => hooked.find((h) => h.event?.kind === 'requests_disagree')?.event, {
      what: 'a requests_disagree webhook',
    });
    assert.equal(event.accountName, 'acct-01');
    assert.match(event.summary ?? '', /6 of 7 requests since failed with a quota limit/);
    const view = await t.fleet.getAccount(id);
    assert.equal(view?.disabled, false, 'a disagreement never acts on the account');
    assert.equal(view?.requests?.disagreement?.reprobeState, 'ok', 're-probed; the probe still says ok');
  });

  it('/api/accounts, the report and /metrics carry the last hour of requests', async () => {
    const api = (await (await fetch(`${t.url}/api/accounts`)).json()) as {
      accounts: Array<{
        id: string;
        requests?: { authIndex: string; lastHour: { requests: number; failures: number } };
      }>;
    };
    const a = api.accounts.find((x) => x.id === id);
    assert.equal(a?.requests?.authIndex, index(), 'the local file maps by its path');
    assert.deepEqual([a?.requests?.lastHour.requests, a?.requests?.lastHour.failures], [7, 6]);
    assert.equal(api.accounts.filter((x) => x.requests).length, 1, 'no other account gets its requests');
    const report = await t.fleet.healthReport();
    const item = report.accounts.find((x) => x.extensions?.name === 'acct-01');
    assert.equal(
      (item?.extensions as { requests?: { lastHour: { requests: number } } } | undefined)?.requests?.lastHour.requests,
      7,
    );
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /codex_fleet_account_requests_last_hour\{account_id="[^"]+",account="acct-01"\} 7/);
    assert.match(metrics, /codex_fleet_account_request_failures_last_hour\{account_id="[^"]+",account="acct-01"\} 6/);
  });

  it('the Accounts page shows the requests on the card and in the table; Monitoring links back', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${t.url}/accounts`);
      const card = page.locator('article.account[data-account="acct-01"]');
      await card.getByTestId('requests-hour').waitFor();
      assert.match((await card.getByTestId('requests-hour').textContent()) ?? '', /7 req · 6 failed \(429 ×6\)/);
      assert.match((await card.getByTestId('last-failure').textContent()) ?? '', /429 usage_limit_reached/);
      await page.getByTestId('view-table').click();
      const row = page.getByTestId('accounts-table').locator('tr[data-account="acct-01"]');
      await row.getByTestId('requests-cell').waitFor();
      assert.match((await row.getByTestId('requests-cell').textContent()) ?? '', /7 req · 6 failed/);
      await page.getByTestId('view-cards').click();

      await page.goto(`${t.url}/monitoring`);
      const link = page.getByTestId('overview-account-link');
      await link.waitFor();
      assert.equal(await link.textContent(), 'acct-01');
      await link.click();
      await page.getByTestId('account-chart').waitFor();
      assert.equal(await page.locator('article.account').count(), 1, 'the linked account alone, its history open');

      // Inspection results carry the request outcomes beside the probe's answer.
      await t.fleet.inspect('tester');
      await page.goto(`${t.url}/inspection`);
      const chip = page.locator('ul.evidence li', { hasText: 'requests 1 h' }).first();
      await chip.waitFor({ state: 'attached' });
      assert.match((await chip.textContent()) ?? '', /7 req · 6 failed \(429 ×6\)/);
    } finally {
      await browser.close();
    }
  });
});
