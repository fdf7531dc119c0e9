// The demo's seeded history and traffic: history ends where the simulator starts (so the forecast
// fits it), broken accounts turn broken, and every traffic record parses as a CPA v7.2 usage record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUsageRecord } from '../monitor/record.ts';
import { demoSnapshots } from './demo-history.ts';
import { createTraffic, requestsPerMinute } from './traffic.ts';

const NOW = Date.UTC(2026, 11, 4, 12);
const H = 3_600_000;

test('demoSnapshots: a week every ~30 min, ending at the spec’s used %; broken accounts end broken', () => {
  const snaps = demoSnapshots(
    [
      {
        accountId: 'a',
        scenario: 'healthy',
        plan: 'plus',
        primaryUsedPercent: 40,
        primaryResetAfterSeconds: 3 * 3600,
        secondaryUsedPercent: 60,
        secondaryResetAfterSeconds: 86_400,
      },
      { accountId: 'b', scenario: 'expired-token', plan: 'plus' },
      {
        accountId: 'c',
        scenario: 'weekly-only-free',
        plan: 'free',
        primaryUsedPercent: 35,
        primaryResetAfterSeconds: 2 * 86_400,
      },
    ],
    NOW,
  );
  const of = (id: string) => snaps.filter((s) => s.accountId === id);
  for (const id of ['a', 'b', 'c']) {
    const mine = of(id);
    assert.ok(mine.length > 250 && mine.length < 340, `${id}: ${mine.length} samples`);
    assert.ok(mine[0].fetchedAt >= NOW - 7 * 24 * H && mine.at(-1)!.fetchedAt < NOW);
  }
  // The 5h window fills at a steady rate toward 40% used at NOW (2 h into its 5 h period).
  const last = of('a').at(-1)!;
  const five = last.windows.find((w) => w.kind === '5h')!;
  const hoursBefore = (NOW - last.fetchedAt) / H;
  assert.ok(Math.abs((five.usedPercent ?? 0) - (40 - 20 * hoursBefore)) < 0.2, `5h used ${five.usedPercent}`);
  assert.equal(Date.parse(five.resetsAt ?? ''), NOW + 3 * H);
  assert.deepEqual(
    of('c')
      .at(-1)!
      .windows.map((w) => w.kind),
    ['weekly'],
  );
  assert.equal(of('b').at(-1)!.state, 'auth_expired');
  assert.equal(of('b')[0].state, 'ok');
  assert.deepEqual(
    snaps,
    [...snaps].sort((x, y) => x.fetchedAt - y.fetchedAt),
    'oldest first',
  );
});

test('traffic: records parse as CPA v7.2 usage, with failures, several models and keys, busier by day', () => {
  const t = createTraffic({
    accounts: [
      { name: 'x', email: 'x@example.com' },
      { name: 'y', email: 'y@example.com' },
    ],
    seed: 3,
  });
  const records = [...t.between(NOW - 24 * H, NOW)];
  assert.ok(records.length > 1000, `${records.length} records in a day`);
  let failed = 0;
  const models = new Set<string>();
  const keys = new Set<string>();
  for (const r of records) {
    const p = parseUsageRecord(r, { keyHashSecret: 's' });
    assert.ok(p.ok, `record does not parse: ${JSON.stringify(r)}`);
    if (p.event.failed) failed++;
    models.add(String(p.event.model));
    keys.add(p.event.apiKeyLabel ?? '');
  }
  assert.ok(failed > 0 && failed < records.length * 0.15, `${failed} failures`);
  assert.ok(models.size >= 4 && keys.size >= 3);
  assert.ok(requestsPerMinute(Date.UTC(2026, 11, 4, 12)) > requestsPerMinute(Date.UTC(2026, 11, 4, 1)) * 3);
});
