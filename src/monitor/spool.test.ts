import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Spool } from './spool.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('records written as bytes or text come back as the same text, whatever they hold', () => {
  const records = [
    '{"a":1}',
    '{"model":"gpt-5","note":"é ✓ 😀"}',
    'line one\nline two',
    '"a quoted string"',
    '',
    'not json at all',
  ];
  const path = join(dir, 'mixed.jsonl');
  const spool = new Spool(path);
  assert.deepEqual(spool.open(), { records: [], torn: 0 });
  // Bytes (as the RESP source pops them) and text (HTTP source, replays) in one write, then again.
  spool.write(records.map((r, i) => (i % 2 === 0 ? Buffer.from(r) : r)));
  spool.write(records.map((r, i) => (i % 2 === 1 ? Buffer.from(r) : r)));
  assert.equal(spool.size, 12);
  spool.close();
  const back = new Spool(path).open();
  // The empty record leaves an empty line, which a replay skips: it would only be quarantined.
  const kept = records.filter((r) => r !== '');
  assert.deepEqual(back, { records: [...kept, ...kept], torn: 0 });
});

test('a line cut short by a crash is counted as torn, the rest is kept', () => {
  const path = join(dir, 'torn.jsonl');
  const spool = new Spool(path);
  spool.open();
  spool.write([Buffer.from('{"a":1}'), Buffer.from('{"b":2}')]);
  spool.close();
  appendFileSync(path, '{"c":');
  assert.deepEqual(new Spool(path).open(), { records: ['{"a":1}', '{"b":2}'], torn: 1 });
});
