// The quota table at a fixed terminal width: every window's remaining % with its reset (5h, weekly,
// monthly), the reset of a rate-limited account, and a layout that fits 100 and 160 columns.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toQuotaRow } from '../../core/quota-rows.ts';
import type { Account } from '../../domain/account.ts';
import type { ProbeResult, QuotaWindow } from '../../domain/quota.ts';
import { renderQuotaTable } from './quota-table.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function account(name: string): Account {
  return { id: name, name, email: `${name}@example.com`, accountId: `acc-${name}`, plan: 'plus' } as unknown as Account;
}

function window(kind: QuotaWindow['kind'], remaining: number, resetInS: number): QuotaWindow {
  const seconds = { '5h': 18_000, weekly: 604_800, monthly: 2_592_000, other: 0 }[kind];
  return {
    kind,
    scope: kind === '5h' ? 'primary' : 'secondary',
    limitName: null,
    usedPercent: 100 - remaining,
    remainingPercent: remaining,
    windowSeconds: seconds,
    resetAfterSeconds: resetInS,
    resetsAt: iso(NOW + resetInS * 1000),
  } as QuotaWindow;
}

function probe(partial: Partial<ProbeResult>, windows: QuotaWindow[] = []): ProbeResult {
  return {
    state: 'ok',
    reason: 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: null,
    snapshot: windows.length
      ? {
          plan: 'plus',
          allowed: true,
          limitReached: false,
          rateLimitReachedType: null,
          windows,
          credits: { hasCredits: false, unlimited: false, balance: '0' },
          fetchedAt: iso(NOW),
        }
      : null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: iso(NOW),
    attempts: 1,
    usagePath: '/wham/usage',
    ...partial,
  } as ProbeResult;
}

const rows = [
  toQuotaRow(
    account('work-primary-account-with-a-long-name'),
    probe({}, [window('5h', 88, 2 * 3600 + 300), window('weekly', 40, 3 * 86400)]),
    NOW,
  ),
  toQuotaRow(account('team'), probe({}, [window('5h', 10, 600), window('monthly', 75, 20 * 86400)]), NOW),
  toQuotaRow(
    account('limited'),
    probe({ state: 'exhausted', reason: 'usage_limit_reached', httpStatus: 429, resetAfterSeconds: 5400 }),
    NOW,
  ),
];

const lines = (s: string) => s.split('\n');
const widest = (s: string) => Math.max(...lines(s).map((l) => l.length));

describe('quota table', () => {
  it('wide (200 columns): each window’s remaining % and reset, with dates; credits and source', () => {
    const out = renderQuotaTable(rows, { width: 200, colour: false, now: NOW });
    assert.ok(widest(out) <= 200, `widest line ${widest(out)}`);
    const head = lines(out)[1];
    for (const h of [
      '5h left',
      '5h reset',
      'weekly left',
      'weekly reset',
      'monthly left',
      'monthly reset',
      'credits',
      'source',
    ])
      assert.ok(head.includes(h), `header has ${h}: ${head}`);
    const work = lines(out).find((l) => l.includes('work-primary'))!;
    assert.match(work, /88%.*\(2h 5m\).*40%.*\(3d\)/);
    const team = lines(out).find((l) => l.includes('team'))!;
    assert.match(team, /10%.*\(10m\).*75%.*\(20d\)/);
    assert.match(out, /limited[\s\S]*usage_limit_reached[\s\S]*\(1h 30m\)/, 'the rate-limited account shows its reset');
  });

  it('narrow (100 columns): fits, keeps every window with its countdown and the rate-limit reset', () => {
    const out = renderQuotaTable(rows, { width: 100, colour: false, now: NOW });
    assert.ok(widest(out) <= 100, `widest line ${widest(out)}:\n${out}`);
    assert.doesNotMatch(lines(out)[1], /credits|source/);
    const text = out.replace(/[│|\s]+/g, ' ');
    assert.match(text, /88% 2h 5m 40% 3d/);
    assert.match(text, /10% 10m - - 75% 20d/);
    assert.match(text, /resets in 1h 30m/);
  });

  it('fits at 160 (compact when the wide one would not) and at 90 columns', () => {
    for (const width of [160, 130, 90]) {
      const out = renderQuotaTable(rows, { width, colour: false, now: NOW });
      assert.ok(widest(out) <= width, `widest line ${widest(out)} at ${width}:\n${out}`);
    }
    const twoWindows = renderQuotaTable([rows[0], rows[2]], { width: 160, colour: false, now: NOW });
    assert.match(lines(twoWindows)[1], /5h reset.*weekly reset.*credits/, 'wide when it fits');
  });
});
