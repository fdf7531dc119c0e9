// Which commands relaunch themselves with the collector's heap limits (src/monitor/heap.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsHeapLimits, startsCollector } from './heap.ts';

const argv = (...a: string[]) => ['node', 'main.ts', ...a];

test('the commands that start a collector are the ones relaunched', () => {
  assert.equal(startsCollector(argv('monitor', 'run', '--redis', '127.0.0.1:6379')), true);
  assert.equal(startsCollector(argv('serve', '--collect', 'main:resp')), true);
  assert.equal(startsCollector(argv('serve', '--collect=main')), true);
  assert.equal(startsCollector(argv('serve', '--demo')), true);
  assert.equal(startsCollector(argv('serve', '--port', '8080')), false);
  assert.equal(startsCollector(argv('monitor', 'status')), false);
  assert.equal(startsCollector(argv('report', '--collect')), false);
});

test('limits the operator set (flags or NODE_OPTIONS) and --help are left alone', () => {
  assert.equal(needsHeapLimits(argv('serve', '--collect', 'main'), [], ''), true);
  assert.equal(needsHeapLimits(argv('serve', '--collect', 'main'), ['--max-old-space-size=512'], ''), false);
  assert.equal(needsHeapLimits(argv('serve', '--collect', 'main'), [], '--max-semi-space-size=8'), false);
  assert.equal(needsHeapLimits(argv('serve', '--collect', 'main', '--help'), [], ''), false);
  assert.equal(needsHeapLimits(argv('serve'), [], ''), false);
});
