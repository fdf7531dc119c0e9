// The wait helper and the real-server decision: a wait ends on its state or event, or fails naming what
// it awaited and what it saw last; a missing server skips on a developer's machine and fails in CI.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inCi, RealServerMissing, unavailable } from './real-server.ts';
import { WaitTimeout, waitFor, waitForEvent, within } from './wait.ts';

describe('waitFor', () => {
  it('returns the first truthy value the probe gives', async () => {
    let n = 0;
    assert.equal(
      await waitFor(() => (++n >= 3 ? `done at ${n}` : false), { what: 'three polls', intervalMs: 1 }),
      'done at 3',
    );
  });

  it('fails with what was awaited and what was seen last', async () => {
    let n = 0;
    await assert.rejects(
      waitFor(() => ({ ok: false, seen: { polls: ++n } }), {
        what: 'a state that never comes',
        timeoutMs: 30,
        intervalMs: 5,
      }),
      (e: Error) =>
        e instanceof WaitTimeout &&
        /timed out after 30 ms waiting for a state that never comes; last seen: \{ polls: \d+ \}/.test(e.message),
    );
  });

  it('a probe error ends the wait at once unless told to retry it', async () => {
    let calls = 0;
    const boom = () => {
      calls++;
      throw new Error('rejected key');
    };
    await assert.rejects(waitFor(boom, { what: 'x', timeoutMs: 5_000 }), /rejected key/);
    assert.equal(calls, 1);
    await assert.rejects(
      waitFor(boom, { what: 'a server', timeoutMs: 30, intervalMs: 5, retryOnError: () => true }),
      /waiting for a server; last seen: Error: rejected key/,
    );
    assert.ok(calls > 2);
  });
});

describe('waitForEvent and within', () => {
  it('resolves with the accepted event and reports rejected ones on timeout', async () => {
    const e = new EventEmitter();
    const got = waitForEvent<[number]>(e, 'n', { what: 'an even n', accept: (n) => n % 2 === 0 });
    e.emit('n', 1);
    e.emit('n', 4);
    assert.deepEqual(await got, [4]);
    assert.equal(e.listenerCount('n'), 0, 'the listener is removed');
    const never = waitForEvent<[number]>(e, 'n', { what: 'n above 10', accept: (n) => n > 10, timeoutMs: 20 });
    e.emit('n', 7);
    await assert.rejects(never, /waiting for n above 10; last seen: \{ rejected: \[ 7 \] \}/);
  });

  it('within names the promise it gave up on', async () => {
    assert.equal(await within(Promise.resolve(1), { what: 'one' }), 1);
    await assert.rejects(
      within(new Promise(() => {}), { what: 'the child to exit', timeoutMs: 10 }),
      /the child to exit/,
    );
  });
});

describe('a real server that cannot be had', () => {
  it('reads CI the way CI services set it', () => {
    assert.equal(inCi({ CI: 'true' }), true);
    assert.equal(inCi({ CI: '1' }), true);
    assert.equal(inCi({}), false);
    assert.equal(inCi({ CI: 'false' }), false);
    assert.equal(inCi({ CI: '0' }), false);
  });

  it('fails in CI and skips loudly elsewhere', () => {
    assert.throws(
      () => unavailable('redis-server', 'not installed', { CI: 'true' }),
      (e: Error) =>
        e instanceof RealServerMissing && /redis-server is required in CI \(CI=true\).*not installed/.test(e.message),
    );
    assert.equal(unavailable('redis-server', 'not installed', {}), 'redis-server unavailable: not installed');
  });
});

describe('no fixed sleeps in tests', () => {
  // Issue 22: a test waits for a state or an event through this helper, never for a length of time. A
  // pause a test really needs (a child process's start barrier) says why on its line with `sleep-ok:`.
  const SLEEP =
    /new Promise(<[^>]*>)?\(\(?\w*\)?\s*=>\s*setTimeout\(\w+,|from 'node:timers\/promises'|waitForTimeout\(|\bsleep\(/;
  const root = join(import.meta.dirname, '..', '..');

  it('finds none outside test/support/wait.ts', () => {
    const files = ['src', 'test', 'bench']
      .flatMap((top) => readdirSync(join(root, top), { recursive: true, encoding: 'utf8' }).map((f) => join(top, f)))
      .filter((f) => f.endsWith('.test.ts') || (f.startsWith('test/') && f.endsWith('.ts')))
      .filter((f) => f !== join('test', 'support', 'wait.ts') && f !== join('test', 'support', 'wait.test.ts'));
    assert.ok(files.length > 100, `the scan saw the test files (${files.length})`);
    const found = files.flatMap((f) =>
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
        .filter(({ line }) => SLEEP.test(line) && !line.includes('sleep-ok:')),
    );
    assert.deepEqual(found, [], 'fixed sleeps in tests (wait for a state or an event with test/support/wait.ts)');
  });
});
