import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AccountStateView } from './changes.ts';
import { MemoryDeliveryLog } from './channels.ts';
import { Notifier, type NotifierMemory } from './notifier.ts';

/** A real local webhook receiver; it can be told to fail the next N requests. */
let server: Server;
let url: string;
let received: unknown[] = [];
let failNext = 0;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
after(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  failNext = 0;
});

function memoryStore() {
  let saved: NotifierMemory | null = null;
  return {
    load: async () => saved,
    save: async (m: NotifierMemory) => {
      saved = m;
    },
  };
}

const view = (id: string, state: AccountStateView['state'], observedAt: number): AccountStateView => ({
  id,
  name: `acct-${id}`,
  state,
  reason: state === 'ok' ? 'quota_available' : 'usage_limit_reached',
  observedAt,
});

const fastRetry = { sleep: async () => {}, random: () => 0 };

describe('Notifier against a local webhook receiver', () => {
  it('sends exactly one message per state change, even when sweeps repeat', async () => {
    const notifier = new Notifier(
      () => ({ targets: [{ url, format: 'json' }], poolLowFraction: 0 }),
      memoryStore(),
      new MemoryDeliveryLog(),
      fastRetry,
    );
    await notifier.observe([view('a', 'ok', 1), view('b', 'ok', 1)], 1);
    assert.equal(received.length, 0, 'first sight of healthy accounts is not news');
    await notifier.observe([view('a', 'exhausted', 2), view('b', 'ok', 2)], 2);
    await notifier.observe([view('a', 'exhausted', 3), view('b', 'ok', 3)], 3);
    await notifier.observe([view('a', 'exhausted', 4), view('b', 'unknown', 4)], 4);
    assert.equal(received.length, 1);
    assert.match(JSON.stringify(received[0]), /acct-a ok → exhausted/);
    await notifier.observe([view('a', 'ok', 5), view('b', 'ok', 5)], 5);
    assert.equal(received.length, 2);
  });

  it('retries a failing receiver with backoff and still delivers once', async () => {
    failNext = 2;
    const notifier = new Notifier(
      () => ({ targets: [{ url, format: 'slack' }], poolLowFraction: 0 }),
      memoryStore(),
      new MemoryDeliveryLog(),
      fastRetry,
    );
    const { results } = await notifier.observe([view('x', 'auth_invalid', 1)], 1);
    assert.equal(results[0].attempts, 3);
    assert.equal(results[0].delivered, true);
    assert.deepEqual(received, [{ text: 'codex-fleet: account acct-x new → auth_invalid (usage_limit_reached)' }]);
  });

  it('announces the pool going low and recovering once each', async () => {
    const notifier = new Notifier(
      () => ({ targets: [{ url, format: 'discord' }], poolLowFraction: 0.5 }),
      memoryStore(),
      new MemoryDeliveryLog(),
      fastRetry,
    );
    await notifier.observe([view('a', 'ok', 1), view('b', 'ok', 1), view('c', 'ok', 1)], 1);
    await notifier.observe([view('a', 'exhausted', 2), view('b', 'exhausted', 2), view('c', 'ok', 2)], 2);
    await notifier.observe([view('a', 'exhausted', 3), view('b', 'exhausted', 3), view('c', 'ok', 3)], 3);
    const pool = received.filter((m) => /pool/.test(JSON.stringify(m)));
    assert.equal(pool.length, 1);
    assert.match((pool[0] as { content: string }).content, /pool low: 1 of 3/);
    await notifier.observe([view('a', 'ok', 4), view('b', 'ok', 4), view('c', 'ok', 4)], 4);
    assert.equal(received.filter((m) => /pool recovered/.test(JSON.stringify(m))).length, 1);
  });

  it('does not announce again after a restart with persisted memory', async () => {
    const persistence = memoryStore();
    const log = new MemoryDeliveryLog();
    const settings = () => ({ targets: [{ url, format: 'json' as const }], poolLowFraction: 0 });
    await new Notifier(settings, persistence, log, fastRetry).observe([view('a', 'blocked', 1)], 1);
    await new Notifier(settings, persistence, log, fastRetry).observe([view('a', 'blocked', 2)], 2);
    assert.equal(received.length, 1);
  });

  it('never puts the webhook URL path in an error', async () => {
    const notifier = new Notifier(
      () => ({ targets: [{ url: 'http://127.0.0.1:9/secret-token-path', format: 'json' }], poolLowFraction: 0 }),
      memoryStore(),
      new MemoryDeliveryLog(),
      { ...fastRetry, retries: 1 },
    );
    const { results } = await notifier.observe([view('a', 'blocked', 1)], 1);
    assert.equal(results[0].delivered, false);
    assert.doesNotMatch(results[0].error ?? '', /secret-token-path/);
  });
});
