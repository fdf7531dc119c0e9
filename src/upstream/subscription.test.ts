import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lapsesAt, parsePlanTerm } from './subscription.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const body = (v: unknown) => JSON.stringify(v);

describe('parsePlanTerm', () => {
  const table: Array<[string, number | null, string | null, Partial<ReturnType<typeof parsePlanTerm>>]> = [
    [
      'active, renewing',
      200,
      body({ plan_type: 'plus', active_until: '2026-12-20T00:00:00Z', will_renew: true }),
      { status: 'active', plan: 'plus', endsAt: '2026-12-20T00:00:00.000Z', willRenew: true },
    ],
    [
      'will not renew: lapses at active_until',
      200,
      body({ plan_type: 'pro', active_until: '2026-12-07T00:00:00+00:00', will_renew: false }),
      { status: 'canceled', endsAt: '2026-12-07T00:00:00.000Z', willRenew: false },
    ],
    [
      'cancels_at wins over active_until',
      200,
      body({ active_until: '2026-12-30T00:00:00Z', cancels_at: '2026-12-10T00:00:00Z', will_renew: true }),
      { status: 'canceled', endsAt: '2026-12-10T00:00:00.000Z', willRenew: false },
    ],
    ['unix seconds', 200, body({ active_until: 1_796_000_000 }), { status: 'active', willRenew: null }],
    [
      'no active subscription',
      200,
      body({ plan_type: 'free', entitlement: { has_active_subscription: false } }),
      { status: 'none' },
    ],
    [
      'an invalid date is malformed, never a lapse',
      200,
      body({ cancels_at: 'soon', will_renew: true }),
      { status: 'unknown', note: 'malformed' },
    ],
    ['an out-of-range date is malformed', 200, body({ active_until: 1e16 }), { status: 'unknown', note: 'malformed' }],
    ['not JSON', 200, '<html>', { status: 'unknown', note: 'malformed' }],
    ['401', 401, body({ detail: 'x' }), { status: 'unknown', note: 'http_401' }],
    ['network', null, null, { status: 'unknown', note: 'network' }],
  ];
  for (const [name, status, text, want] of table) {
    it(name, () => {
      const got = parsePlanTerm(status, text, NOW);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, k);
      assert.equal(got.checkedAt, new Date(NOW).toISOString());
    });
  }
});

describe('lapsesAt', () => {
  it('is the end of a term that will not renew, and nothing for a renewing or unknown one', () => {
    assert.equal(
      lapsesAt(parsePlanTerm(200, body({ active_until: '2026-12-07T00:00:00Z', will_renew: false }), NOW)),
      '2026-12-07T00:00:00.000Z',
    );
    assert.equal(
      lapsesAt(parsePlanTerm(200, body({ active_until: '2026-12-07T00:00:00Z', will_renew: true }), NOW)),
      null,
    );
    assert.equal(lapsesAt(parsePlanTerm(500, '', NOW)), null);
    assert.equal(lapsesAt(null), null);
  });
});

describe('fetchPlanTerm against the simulator', () => {
  it('reads a lapsing plan 3 days out, a renewing one, and a free account without a subscription', async () => {
    const { startSimulator } = await import('../sim/index.ts');
    const { fetchPlanTerm } = await import('./subscription.ts');
    const sim = await startSimulator({
      accounts: [{ plan: 'plus', planEndsInDays: 3, planWillRenew: false }, { plan: 'pro' }, { plan: 'free' }],
      latency: 0,
    });
    try {
      const read = (i: number) => {
        const a = sim.accounts[i];
        assert.ok(a);
        return fetchPlanTerm(
          { accessToken: a.accessToken, accountId: a.id },
          { baseUrl: sim.chatgptUrl, timeoutMs: 5000, now: sim.now },
        );
      };
      const lapsing = await read(0);
      assert.equal(lapsing.status, 'canceled');
      assert.equal(Date.parse(lapsing.endsAt ?? '') - sim.now() > 2.9 * 86_400_000, true);
      assert.equal(lapsesAt(lapsing), lapsing.endsAt);
      const renewing = await read(1);
      assert.equal(renewing.status, 'active');
      assert.equal(lapsesAt(renewing), null);
      assert.equal((await read(2)).status, 'none');
      const wrongToken = await fetchPlanTerm(
        { accessToken: 'not-a-token', accountId: sim.accounts[0]?.id ?? null },
        { baseUrl: sim.chatgptUrl, timeoutMs: 5000 },
      );
      assert.deepEqual([wrongToken.status, wrongToken.note], ['unknown', 'http_401']);
    } finally {
      await sim.close();
    }
  });
});
