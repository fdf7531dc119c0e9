import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiet, type PendingAlert, planDelivery } from './digest.ts';

const at = (iso: string) => Date.parse(iso);
const alert = (key: string, when: number): PendingAlert => ({
  key,
  text: `codex-fleet: ${key}`,
  at: when,
  event: { key },
});

describe('isQuiet', () => {
  const overnight = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };
  const table: Array<[string, boolean]> = [
    ['2026-12-04T20:59:00Z', false], // 21:59 Berlin
    ['2026-12-04T21:00:00Z', true], // 22:00
    ['2026-12-05T05:59:00Z', true], // 06:59
    ['2026-12-05T06:00:00Z', false], // 07:00
  ];
  for (const [iso, want] of table)
    it(`${iso} in 22:00-07:00 Berlin → ${want}`, () => assert.equal(isQuiet(overnight, at(iso)), want));
  it('a same-day range', () =>
    assert.equal(isQuiet({ start: '12:00', end: '13:00', timeZone: 'UTC' }, at('2026-12-04T12:30:00Z')), true));
  it('a bad HH:MM is a clear error', () =>
    assert.throws(() => isQuiet({ start: '25:00', end: '07:00', timeZone: 'UTC' }, 0), /not HH:MM/));
});

describe('planDelivery', () => {
  const now = at('2026-12-04T12:00:00Z');
  it('without a digest each alert is its own message', () => {
    const plan = planDelivery([alert('a', now), alert('b', now)], { quietHours: null, digestMinutes: 0 }, now);
    assert.deepEqual(
      plan.send.map((m) => m.key),
      ['a', 'b'],
    );
    assert.deepEqual(plan.keep, []);
  });
  it('with a digest, 300 alerts wait for the window, then go out as one message listing them all', () => {
    const many = Array.from({ length: 300 }, (_, i) => alert(`level:acc-${i}`, now));
    const early = planDelivery(many, { quietHours: null, digestMinutes: 15 }, now + 60_000);
    assert.equal(early.send.length, 0);
    assert.equal(early.keep.length, 300);
    const due = planDelivery(many, { quietHours: null, digestMinutes: 15 }, now + 15 * 60_000);
    assert.equal(due.send.length, 1);
    assert.equal(due.send[0]?.alerts.length, 300);
    assert.match(due.send[0]?.text ?? '', /^codex-fleet: 300 alerts\n• level:acc-0\n/);
    assert.match(due.send[0]?.key ?? '', /^digest:[0-9a-f]{16}$/);
  });
  it('quiet hours hold everything, and what was held goes out as one digest after', () => {
    const quiet = { start: '11:00', end: '13:00', timeZone: 'UTC' };
    const held = planDelivery([alert('a', now), alert('b', now)], { quietHours: quiet, digestMinutes: 0 }, now);
    assert.equal(held.send.length, 0);
    assert.ok(held.keep.every((a) => a.held));
    const after = planDelivery(
      [...held.keep, alert('c', now + 2 * 3_600_000)],
      { quietHours: quiet, digestMinutes: 0 },
      now + 2 * 3_600_000,
    );
    assert.deepEqual(
      after.send.map((m) => m.alerts.map((a) => a.key)),
      [['a', 'b'], ['c']],
    );
  });
});
