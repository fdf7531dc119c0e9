import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { MemoryDeliveryLog } from './channels.ts';
import { emailChannel } from './email.ts';
import { Notifier, type NotifierMemory } from './notifier.ts';

/** A real SMTP server on loopback that keeps every message it accepts. */
let server: SMTPServer;
let port: number;
const mails: Array<{ to: string[]; raw: string }> = [];
let rejectNext = 0;

before(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      stream.on('end', () => {
        if (rejectNext > 0) {
          rejectNext -= 1;
          const err = Object.assign(new Error('try later'), { responseCode: 451 });
          callback(err);
          return;
        }
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function memoryStore() {
  let saved: NotifierMemory | null = null;
  return {
    load: async () => saved,
    save: async (m: NotifierMemory) => {
      saved = m;
    },
  };
}

const settings = () => ({
  host: '127.0.0.1',
  port,
  secure: false,
  user: null,
  from: 'fleet@localhost',
  to: ['ops@localhost'],
});

describe('email alerts through a real SMTP server', () => {
  it('sends one mail per alert, retries a temporary 451, and never twice', async () => {
    mails.length = 0;
    rejectNext = 1;
    const channel = emailChannel(settings(), null, 2000);
    const notifier = new Notifier(
      () => ({ targets: [], channels: [channel], poolLowFraction: 0 }),
      memoryStore(),
      new MemoryDeliveryLog(),
      { sleep: async () => {}, random: () => 0 },
    );
    const view = { id: 'a', name: 'acct-a', state: 'blocked' as const, reason: 'account_blocked', observedAt: 1 };
    const first = await notifier.observe([view], 1);
    assert.equal(first.results[0]?.delivered, true);
    assert.equal(first.results[0]?.attempts, 2);
    await notifier.observe([view], 2);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]?.to, ['ops@localhost']);
    assert.match(mails[0]?.raw ?? '', /X-Codex-Fleet-Alert: state:a:new:blocked/);
    assert.match(mails[0]?.raw ?? '', /Subject: =\?UTF-8\?Q\?codex-fleet=3A_account_acct-a/);
  });

  it('a digest of 300 accounts crossing 80% is one mail listing them', async () => {
    mails.length = 0;
    const notifier = new Notifier(
      () => ({
        targets: [],
        channels: [emailChannel(settings(), null, 2000)],
        poolLowFraction: 0,
        schedule: { quietHours: null, digestMinutes: 10 },
      }),
      memoryStore(),
      new MemoryDeliveryLog(),
    );
    const reset = new Date(Date.UTC(2026, 11, 8)).toISOString();
    const look = (used: number) =>
      Array.from({ length: 300 }, (_, i) => ({
        id: `acc-${i}`,
        name: `seat-${i}`,
        state: 'ok' as const,
        reason: 'quota_available',
        observedAt: 1,
        windows: [
          { kind: 'weekly' as const, scope: 'secondary' as const, limitName: null, usedPercent: used, resetsAt: reset },
        ],
        planEndsAt: null,
      }));
    const t0 = Date.UTC(2026, 11, 4, 12);
    await notifier.observe(look(50), t0);
    const crossed = await notifier.observe(look(82), t0 + 60_000);
    assert.equal(crossed.events.length, 300);
    assert.equal(mails.length, 0, 'held for the digest window');
    await notifier.flush(t0 + 11 * 60_000);
    assert.equal(mails.length, 1);
    assert.match(mails[0]?.raw ?? '', /300 alerts/);
    assert.match(mails[0]?.raw ?? '', /seat-299/);
    await notifier.flush(t0 + 30 * 60_000);
    assert.equal(mails.length, 1, 'nothing sent twice');
  });

  it('an unreachable SMTP server is a clear, secret-free error and the alert stays pending', async () => {
    const persistence = memoryStore();
    const dead = emailChannel({ ...settings(), port: 9 }, 'hunter2-secret', 500);
    const notifier = new Notifier(
      () => ({ targets: [], channels: [dead], poolLowFraction: 0 }),
      persistence,
      new MemoryDeliveryLog(),
      {
        retries: 0,
      },
    );
    const { results } = await notifier.observe(
      [{ id: 'x', name: 'x', state: 'blocked', reason: 'account_blocked', observedAt: 1 }],
      1,
    );
    assert.equal(results[0]?.delivered, false);
    assert.match(results[0]?.error ?? '', /email via smtp:\/\/127\.0\.0\.1:9 failed/);
    assert.doesNotMatch(results[0]?.error ?? '', /hunter2/);
    assert.equal((await persistence.load())?.pending?.length, 1);
  });
});
