import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { jsonOutput } from './json-output.ts';

const value = { a: 1, b: [true, null], c: { d: 'x' } };

it('is indented for a terminal and one line for a program', () => {
  assert.equal(jsonOutput(value, true), JSON.stringify(value, null, 2));
  assert.equal(jsonOutput(value, false), '{"a":1,"b":[true,null],"c":{"d":"x"}}');
  assert.deepEqual(JSON.parse(jsonOutput(value, false)), JSON.parse(jsonOutput(value, true)));
});

it('decides by whether stdout is a terminal when not told', () => {
  // stdout is a pipe here (spawnSync captures it): one line.
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { jsonOutput } = await import(${JSON.stringify(new URL('./json-output.ts', import.meta.url).href)}); process.stdout.write(jsonOutput({ a: [1] }));`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"a":[1]}');
});
