import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pace } from '../../test/support/wait.ts';
import type { ProbeOutcome } from './probe.ts';
import { createStartGate, probeAll, resolveConcurrency, type SweepProgress, type SweepTarget } from './probe-runner.ts';

describe('resolveConcurrency', () => {
  // The environment is read once in core/config.ts; here only the passed value and the clamp count.
  const rows: [number | undefined, number][] = [
    [undefined, 5],
    [3, 3],
    [0, 1],
    [-4, 1],
    [50, 20],
    [2.7, 2],
  ];
  for (const [requested, expected] of rows) {
    test(`${requested} → ${expected}`, () => assert.equal(resolveConcurrency(requested), expected));
  }
});

test('start gate spaces starts by the random gap and does not wait when starts are already apart', async () => {
  let now = 0;
  const slept: number[] = [];
  const gate = createStartGate(
    100,
    () => 0.5,
    () => now,
    async (ms) => {
      slept.push(ms);
    },
  );
  await gate(); // at 0, next allowed at 50
  await gate(); // waits 50, next at 100
  await gate(); // waits 100, next at 150
  now = 1000;
  await gate(); // far later: no wait
  assert.deepEqual(slept, [50, 100]);
});

function outcome(name: string): ProbeOutcome {
  return {
    state: 'ok',
    reason: 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: name,
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: new Date(0).toISOString(),
    attempts: 1,
    usagePath: null,
  };
}

test('probeAll keeps input order, never exceeds the concurrency, reports progress, passes per-target options', async () => {
  const targets: SweepTarget[] = Array.from({ length: 23 }, (_, i) => ({
    name: `acc-${i}`,
    accessToken: `t${i}`,
    accountId: null,
  }));
  let inFlight = 0;
  let peak = 0;
  const progress: SweepProgress[] = [];
  const results = await probeAll(
    targets,
    {
      chatgptUrl: 'http://127.0.0.1:1/backend-api',
      concurrency: 4,
      startJitterMs: 0,
      optionsFor: (t) => ({ userAgent: `ua-${t.name}` }),
      probe: async (target, options) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        // Finish in reverse-ish order so ordering is really tested.
        await pace((23 - Number(target.name!.slice(4))) % 5);
        inFlight--;
        assert.equal(options.userAgent, `ua-${target.name}`);
        return outcome(target.name!);
      },
    },
    (p) => progress.push(p),
  );
  assert.deepEqual(
    results.map((r) => r.message),
    targets.map((t) => t.name),
  );
  assert.equal(peak, 4);
  assert.equal(progress.length, 23);
  assert.deepEqual(
    progress.map((p) => p.done),
    Array.from({ length: 23 }, (_, i) => i + 1),
  );
  assert.ok(progress.every((p) => p.total === 23 && p.current?.startsWith('acc-')));
});

test('a throwing progress callback does not lose results; empty input is fine', async () => {
  const res = await probeAll(
    [{ accessToken: 'x', accountId: null }],
    { chatgptUrl: 'http://127.0.0.1:1', startJitterMs: 0, probe: async () => outcome('x') },
    () => {
      throw new Error('renderer broke');
    },
  );
  assert.equal(res.length, 1);
  assert.deepEqual(await probeAll([], { chatgptUrl: 'http://127.0.0.1:1' }), []);
});
