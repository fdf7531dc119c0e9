// Alerts end to end: the real core over the simulator (its clock drives both), a local webhook receiver and
// a local SMTP server; two instances on one real PostgreSQL; a digest of 300 accounts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import { type SimAccountSpec, type Simulator, startSimulator } from '../../src/sim/index.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const HOUR = 3600;
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

/** A real webhook receiver on loopback; every JSON body it accepts. */
let hook: Server;
let hookUrl: string;
const hooks: Array<{ text: string; events: Array<{ kind: string }> }> = [];
/** A real SMTP server on loopback; every message it accepts. */
let smtp: SMTPServer;
let smtpPort: number;
const mails: string[] = [];

before(async () => {
  process.env.CODEX_FLEET_SECRET_KEY = 'alerts-test-key-0123456789-abcdefghijklmnop';
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      stream.on('end', () => {
        mails.push(raw);
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => hook.close(() => r()));
  await new Promise<void>((r) => smtp.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const kinds = () => hooks.flatMap((h) => h.events.map((e) => e.kind));

async function fleetOn(
  sim: Simulator,
  accountDir: string,
  dataDir: string,
  databaseUrl?: string,
): Promise<FleetService> {
  const config = resolveConfig(
    { accountDir, dataDir, chatgptUrl: sim.chatgptUrl, authUrl: sim.authUrl, retries: 0, databaseUrl },
    {},
  );
  return createFleetService({ config, background: false, clock: sim.now });
}

const weeklyOnly = { '5h': [], weekly: [80, 95], monthly: [] };

describe('quota and plan alerts through the real core', () => {
  it('80% then 95% of the weekly window: two alerts, its reset one, a lapsing plan one; nothing twice across a restart', async () => {
    hooks.length = 0;
    mails.length = 0;
    const seat: SimAccountSpec = {
      email: 'lapsing@example.test',
      secondaryUsedPercent: 75,
      burnRatePerHour: 10,
      secondaryResetAfterSeconds: 72 * HOUR,
      planEndsInDays: 3,
      planWillRenew: false,
    };
    const sim = await startSimulator({ accounts: [seat, { email: 'renewing@example.test', plan: 'pro' }], latency: 0 });
    const accountDir = tempDir('cf-alerts-acc-');
    const dataDir = tempDir('cf-alerts-data-');
    await sim.writeAuthFiles(accountDir, 'cpa');
    let fleet = await fleetOn(sim, accountDir, dataDir);
    try {
      await fleet.setSettings({
        notifications: {
          webhooks: [{ url: hookUrl, format: 'json' }],
          rules: { windowLevels: weeklyOnly, planExpiryDays: 7 },
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            secure: false,
            user: null,
            from: 'fleet@example.test',
            to: ['ops@example.test'],
          },
        },
      });
      assert.equal(await fleet.refreshPlanTerms(undefined, { force: true }), 2);
      await fleet.refreshAll();
      assert.deepEqual(kinds(), ['plan_expiring'], 'the lapsing plan, and nothing about 75% used');

      // Shown with its end date everywhere: account view, report extensions, metrics.
      const views = await fleet.listAccounts();
      const lapsing = views.find((v) => v.email === seat.email);
      assert.ok(lapsing?.planEndsAt && lapsing.planWillRenew === false);
      assert.equal(views.find((v) => v.email === 'renewing@example.test')?.planWillRenew, true);
      const report = await fleet.healthReport({});
      const inReport = report.accounts.find((a) => a.email === seat.email);
      assert.equal(inReport?.extensions?.planEndsAt, lapsing.planEndsAt);
      const metrics = (await fleet.metrics()).body;
      assert.match(metrics, /codex_fleet_account_plan_end_timestamp_seconds\{[^}]*\} \d+/);
      assert.match(metrics, /codex_fleet_account_plan_will_renew\{[^}]*\} 0/);

      sim.advance(4 * HOUR);
      await fleet.refreshAll();
      assert.deepEqual(kinds().slice(1), ['window_level_crossed']);
      assert.match(hooks.at(-1)?.text ?? '', /weekly:secondary window at 8\d% used \(crossed 80%\)/);

      // A restart at the same level: the memory in the store says it was announced.
      await fleet.close();
      fleet = await fleetOn(sim, accountDir, dataDir);
      await fleet.refreshAll();
      assert.equal(hooks.length, 2, 'nothing sent twice across a restart');

      sim.advance(11 * HOUR);
      await fleet.refreshAll();
      assert.match(hooks.at(-1)?.text ?? '', /crossed 95%/);
      sim.advance(58 * HOUR);
      await fleet.refreshAll();
      assert.deepEqual(kinds(), ['plan_expiring', 'window_level_crossed', 'window_level_crossed', 'window_reset']);
      assert.equal(mails.length, 4, 'email carries the same four alerts');
      await fleet.refreshAll();
      assert.equal(hooks.length, 4);
    } finally {
      await fleet.close();
      await sim.close();
    }
  });

  it('300 accounts crossing a level in one sweep, with the digest on: one message listing them', async () => {
    hooks.length = 0;
    const specs = Array.from({ length: 300 }, () => ({ secondaryUsedPercent: 79, burnRatePerHour: 10 }));
    const sim = await startSimulator({ accounts: specs, latency: 0 });
    const accountDir = tempDir('cf-digest-acc-');
    await sim.writeAuthFiles(accountDir, 'cpa');
    const fleet = await fleetOn(sim, accountDir, tempDir('cf-digest-data-'));
    try {
      await fleet.setSettings({
        notifications: {
          webhooks: [{ url: hookUrl, format: 'slack' }],
          rules: { windowLevels: weeklyOnly, planExpiryDays: 0 },
          schedule: { digestMinutes: 10 },
        },
      });
      await fleet.refreshAll();
      sim.advance(HOUR);
      await fleet.refreshAll();
      assert.equal(hooks.length, 0, 'held for the digest window');
      sim.advance(11 * 60);
      await fleet.flushAlerts();
      assert.equal(hooks.length, 1);
      const text = (hooks[0] as unknown as { text: string }).text;
      assert.match(text, /^codex-fleet: 300 alerts\n/);
      assert.equal(text.split('\n').length, 301);
    } finally {
      await fleet.close();
      await sim.close();
    }
  });
});

describe('two instances on one PostgreSQL', () => {
  let pg: PostgresServer | null = null;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  it('a crossing seen by both instances is announced once', async (t) => {
    if (!pg) return t.skip('PostgreSQL unavailable (said above)');
    hooks.length = 0;
    const sim = await startSimulator({ accounts: [{ secondaryUsedPercent: 78, burnRatePerHour: 10 }], latency: 0 });
    const accountDir = tempDir('cf-pg-acc-');
    await sim.writeAuthFiles(accountDir, 'cpa');
    const url = await pg.createDatabase('alerts');
    const a = await fleetOn(sim, accountDir, tempDir('cf-pg-a-'), url);
    const b = await fleetOn(sim, accountDir, tempDir('cf-pg-b-'), url);
    try {
      await a.setSettings({
        notifications: {
          webhooks: [{ url: hookUrl, format: 'json' }],
          rules: { windowLevels: weeklyOnly, planExpiryDays: 0 },
        },
      });
      // b read its settings when it opened, before a wrote them: reopen so both alert.
      await b.close();
      const b2 = await fleetOn(sim, accountDir, tempDir('cf-pg-b2-'), url);
      try {
        await Promise.all([a.refreshAll(), b2.refreshAll()]);
        sim.advance(2 * HOUR);
        await Promise.all([a.refreshAll(), b2.refreshAll()]);
        await Promise.all([a.refreshAll(), b2.refreshAll()]);
        assert.deepEqual(kinds(), ['window_level_crossed']);
      } finally {
        await b2.close();
      }
    } finally {
      await a.close();
      await sim.close();
    }
  });
});
