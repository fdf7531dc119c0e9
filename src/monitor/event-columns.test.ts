import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { ColumnsBuilder, eventAt, transferables } from './event-columns.ts';
import { parseUsageRecord } from './record.ts';

const events = [...generateRecords(700, { start: Date.UTC(2026, 10, 3), stepMs: 900, failureRate: 0.3, seed: 5 })].map(
  (r) => {
    const p = parseUsageRecord(JSON.stringify(r), { keyHashSecret: 's' });
    assert.ok(p.ok);
    return p.event;
  },
);

test('columns grow past their capacity and give every event back exactly', () => {
  const b = new ColumnsBuilder(16);
  for (const e of events) b.push(e);
  assert.equal(b.size, events.length);
  const c = b.take();
  assert.equal(b.size, 0, 'the builder starts over');
  assert.equal(c.n, events.length);
  assert.equal(c.requestIds.length, events.length);
  // Repeated values are stored once.
  assert.ok(c.strings.length < 200, `${c.strings.length} strings`);
  const failures = new Map(c.failures.map((f) => [f.row, f]));
  assert.equal(failures.size, events.filter((e) => e.failed).length);
  for (let i = 0; i < events.length; i++) assert.deepEqual(eventAt(c, i, failures), events[i], `row ${i}`);
});

test('a parser that leaves request keys to the store gets the same keys back from the columns', () => {
  const b = new ColumnsBuilder();
  const raw = [...generateRecords(50, { start: Date.UTC(2026, 10, 3), stepMs: 900, seed: 6 })];
  for (const r of raw) {
    const p = parseUsageRecord(r, { keyHashSecret: 's', requestKeyLater: true });
    assert.ok(p.ok);
    assert.equal(p.event.dedupeKey, 0n);
    b.push(p.event);
  }
  const c = b.take();
  raw.forEach((r, i) => {
    const full = parseUsageRecord(r, { keyHashSecret: 's' });
    assert.ok(full.ok);
    assert.equal(eventAt(c, i, new Map()).dedupeKey, full.event.dedupeKey);
  });
  assert.equal(transferables(c).length, 3);
});
