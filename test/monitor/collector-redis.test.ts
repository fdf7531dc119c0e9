// The collector against a real redis-server standing in for CPA's queue: crash mid-batch (a real
// SIGKILL of the collector process), two collectors on one queue, duplicates, malformed records,
// and exactly which commands go over the wire.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Collector, collectorMetrics } from '../../src/monitor/collector.ts';
import { RespSource } from '../../src/monitor/collectors/resp.ts';
import { SourceError } from '../../src/monitor/collectors/types.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import type { Db } from '../../src/store/db.ts';
import { holderProcessGone, LeaseStore } from '../../src/store/lease.ts';
import { openStore } from '../../src/store/open.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type RedisServer, tryStartRedis } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const started = await tryStartRedis();
const redis: RedisServer | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
const CHILD = join(import.meta.dirname, '../support/monitor-collector-child.ts');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-coll-'));
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function runChild(args: string[]): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        out: stdout + stderr,
      });
    });
  });
}

async function pushRecords(queue: string, records: unknown[]): Promise<void> {
  const c = redis!.client();
  for (let i = 0; i < records.length; i += 1000) {
    await c.rpush(queue, ...records.slice(i, i + 1000).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))));
  }
}

async function counts(db: Db): Promise<{ events: number; distinct: number }> {
  const r = await db.get<{ n: number; d: number }>(
    'SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM mon_event',
  );
  return { events: Number(r?.n), distinct: Number(r?.d) };
}

describe('collector over RESP (real redis-server)', () => {
  for (const crashAt of ['after-spool', 'after-commit']) {
    test(`SIGKILL ${crashAt} in the middle of the run: 0 lost, 0 doubled`, { skip }, async () => {
      const N = 12_000;
      const dbPath = join(dir, `crash-${crashAt}.db`);
      const spool = join(dir, `crash-${crashAt}.spool`);
      await pushRecords('usage', [
        ...generateRecords(N, { start: Date.UTC(2026, 10, 1), stepMs: 50, seed: crashAt.length }),
      ]);
      const first = await runChild([dbPath, String(redis!.port), spool, 'collector-a', crashAt, '3']);
      assert.equal(first.signal, 'SIGKILL', first.out);
      // A restarted collector is a new process (new holder): it waits for the dead one's lease to expire.
      let tries = 0;
      const second = await waitFor(
        async () => {
          const run = await runChild([dbPath, String(redis!.port), spool, 'collector-b']);
          tries++;
          return run.code === 3 ? { ok: false, seen: `try ${tries}: ${run.out.trim().split('\n').at(-1)}` } : run;
        },
        {
          what: "collector-b to take over once the killed collector's lease expired",
          timeoutMs: 60_000,
          intervalMs: 300,
        },
      );
      assert.equal(second.code, 0, second.out);
      const stats = JSON.parse(second.out.trim().split('\n').at(-1) as string);
      assert.ok(stats.replayed > 0, 'the spool was replayed');
      const db = await openStore({ databaseUrl: `sqlite:${dbPath}` });
      try {
        assert.deepEqual(await counts(db), { events: N, distinct: N });
        const rollup = await db.get<{ n: number }>(
          'SELECT SUM(requests) AS n FROM mon_rollup WHERE grain = 3600000 AND dim = 0',
        );
        assert.equal(Number(rollup?.n), N, 'rollups count each event once');
      } finally {
        await db.close();
      }
      assert.equal(await redis!.client().llen('usage'), 0);
    });
  }

  test('SIGKILL then an immediate restart on the same host: takes over at once, count exact', { skip }, async () => {
    const N = 8_000;
    const dbPath = join(dir, 'takeover.db');
    const spool = join(dir, 'takeover.spool');
    await pushRecords('usage', [...generateRecords(N, { start: Date.UTC(2026, 10, 2), stepMs: 50, seed: 17 })]);
    // Default holders (host:pid), a long lease: waiting for expiry would take a minute, not a restart.
    const first = await runChild([dbPath, String(redis!.port), spool, '-', 'after-spool', '2', '60000']);
    assert.equal(first.signal, 'SIGKILL', first.out);
    const second = await runChild([dbPath, String(redis!.port), spool, '-', '', '', '60000']);
    assert.equal(second.code, 0, `the restart was refused instead of taking over: ${second.out}`);
    const stats = JSON.parse(second.out.trim().split('\n').at(-1) as string);
    assert.ok(stats.replayed > 0, 'the spool was replayed');
    const db = await openStore({ databaseUrl: `sqlite:${dbPath}` });
    try {
      assert.deepEqual(await counts(db), { events: N, distinct: N });
      // Fencing: the takeover took a new token; the dead holder's token is no longer valid.
      const lease = await db.get<{ token: number }>("SELECT token FROM leases WHERE name LIKE 'monitor.collector:%'");
      assert.ok(Number(lease?.token) >= 2, `token grew on takeover (${lease?.token})`);
    } finally {
      await db.close();
    }
    assert.equal(await redis!.client().llen('usage'), 0);
  });

  test('a holder on another host, or a live process here, is still refused until expiry', { skip }, async () => {
    const db = await openStore({ databaseUrl: `sqlite:${join(dir, 'takeover-rules.db')}` });
    try {
      const leases = new LeaseStore(db);
      const other = await leases.acquire('q', 'elsewhere:999999', 60_000);
      assert.ok(other);
      assert.equal(await leases.acquireOrTakeOver('q', `${hostname()}:${process.pid}`, 60_000), null);
      const live = await leases.acquire('q2', `${hostname()}:${process.ppid}`, 60_000);
      assert.ok(live);
      assert.equal(await leases.acquireOrTakeOver('q2', `${hostname()}:${process.pid}`, 60_000), null);
      assert.equal(holderProcessGone(`${hostname()}:${process.ppid}`), false);
      assert.equal(holderProcessGone('elsewhere:999999'), false);
      // Two restarts racing for one dead holder: exactly one wins.
      await leases.acquire('q3', `${hostname()}:999999`, 60_000);
      const gone = (h: string) => h === `${hostname()}:999999`;
      const [a, b] = [
        await leases.acquireOrTakeOver('q3', 'x:1', 60_000, gone),
        await leases.acquireOrTakeOver('q3', 'y:2', 60_000, gone),
      ];
      assert.ok(a && a.token === 2, 'the first restart took over with a new token');
      assert.equal(b, null, 'the second found a live holder (the first restart) and was refused');
    } finally {
      await db.close();
    }
  });

  test('two collectors on one queue: the second refuses and names the holder', { skip }, async () => {
    const db = await openStore({ databaseUrl: `sqlite:${join(dir, 'two.db')}` });
    const mon = await createMonitorService({ db });
    const mk = (holder: string) =>
      new Collector({
        source: new RespSource({ host: '127.0.0.1', port: redis!.port }),
        ingest: mon.ingest,
        leases: new LeaseStore(db),
        spoolPath: join(dir, `two-${holder}.spool`),
        holder,
      });
    const a = mk('host-a:111');
    const b = mk('host-b:222');
    try {
      assert.deepEqual(await a.start(), { ok: true, replayed: 0 });
      const refused = await b.start();
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok && refused.holder === 'host-a:111' && refused.message.includes('host-a:111'));
      await pushRecords('usage', [...generateRecords(10, { start: Date.UTC(2026, 10, 2), stepMs: 1000, seed: 99 })]);
      assert.equal(await b.runOnce(), 0, 'the refused collector never pops');
      assert.equal(await redis!.client().llen('usage'), 10);
      assert.equal(await a.runOnce(), 10);
      await a.stop();
      // Released: now the other one may take over.
      assert.equal((await b.start()).ok, true);
    } finally {
      await a.stop();
      await b.stop();
      await db.close();
    }
  });

  test('SUBSCRIBE mode: published records are stored', { skip }, async () => {
    const db = await openStore({ databaseUrl: `sqlite:${join(dir, 'sub.db')}` });
    const mon = await createMonitorService({ db });
    const c = new Collector({
      source: new RespSource({ host: '127.0.0.1', port: redis!.port, queue: 'subq', mode: 'subscribe' }),
      ingest: mon.ingest,
      leases: new LeaseStore(db),
      spoolPath: join(dir, 'sub.spool'),
    });
    try {
      assert.equal((await c.start()).ok, true);
      assert.equal(await c.runOnce(), 0); // subscribes
      const recs = [...generateRecords(20, { start: Date.UTC(2026, 10, 4), stepMs: 1000, seed: 8 })];
      const pub = redis!.client();
      for (const r of recs) await pub.publish('subq', JSON.stringify(r));
      let got = 0;
      await waitFor(
        async () => {
          got += await c.runOnce();
          return { ok: got >= 20, seen: `${got} records` };
        },
        { what: '20 published records to be collected', intervalMs: 50 },
      );
      assert.equal(got, 20);
      await c.settle(); // runOnce returns once its commit has started; the next cycle or settle() ends it
      assert.equal(c.stats.inserted, 20);
      assert.ok(collectorMetrics(c.stats).inserted_total === 20 && collectorMetrics(c.stats).up === 1);
    } finally {
      await c.stop();
      await db.close();
    }
  });

  test('duplicate request ids and malformed records: stored once, quarantined, never a crash', { skip }, async () => {
    const db = await openStore({ databaseUrl: `sqlite:${join(dir, 'dup.db')}` });
    const mon = await createMonitorService({ db });
    const c = new Collector({
      source: new RespSource({ host: '127.0.0.1', port: redis!.port, queue: 'dupq' }),
      ingest: mon.ingest,
      leases: new LeaseStore(db),
      spoolPath: join(dir, 'dup.spool'),
    });
    try {
      const recs = [...generateRecords(5, { start: Date.UTC(2026, 10, 3), stepMs: 1000, seed: 5 })];
      const short = [
        ...generateRecords(2, { start: Date.UTC(2026, 10, 3), stepMs: 1000, seed: 6, style: 'short' }, 100),
      ];
      await pushRecords('dupq', [
        ...recs,
        { ...recs[0], latency_ms: 1 }, // same request_id, different body
        ...short,
        'not json at all',
        '{"timestamp":"2026-11-03T00:00:00Z","model":"x","tokens":{"input_tokens":"many"}}',
        '["an","array"]',
      ]);
      assert.equal((await c.start()).ok, true);
      assert.equal(await c.runOnce(), 11);
      await c.settle();
      assert.equal(c.stats.inserted, 7);
      assert.equal(c.stats.duplicates, 1);
      assert.equal(c.stats.quarantined, 3);
      assert.equal(c.stats.state, 'running');
      const q = await db.query<{ reason: string }>('SELECT reason FROM mon_quarantine ORDER BY id');
      assert.equal(q.length, 3);
      const shortRow = await mon.queries.list({ requestId: short[0].request_id as string });
      assert.equal(shortRow.rows[0].tokens.input, (short[0].tokens as { input: number }).input);
    } finally {
      await c.stop();
      await db.close();
    }
  });
});

// A recording RESP server: proves the client sends AUTH then LPOP and nothing else (CPA rejects
// PING/SELECT/INFO/HELLO/CLIENT), and that a rejected key is tried exactly once.
function recordingServer(acceptKey: string): Promise<{ server: Server; port: number; commands: string[][] }> {
  const commands: string[][] = [];
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let pos = m[0].length;
        const args: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const len = /^\$(\d+)\r\n/.exec(buf.slice(pos));
          if (!len) return;
          pos += len[0].length;
          if (buf.length < pos + Number(len[1]) + 2) return;
          args.push(buf.slice(pos, pos + Number(len[1])));
          pos += Number(len[1]) + 2;
        }
        buf = buf.slice(pos);
        commands.push(args);
        const cmd = args[0].toUpperCase();
        if (cmd === 'AUTH') sock.write(args[1] === acceptKey ? '+OK\r\n' : '-ERR invalid management key\r\n');
        else if (cmd === 'LPOP') sock.write('*1\r\n$2\r\n{}\r\n');
        else sock.write(`-ERR unknown command '${cmd}'\r\n`);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port, commands }),
    ),
  );
}

describe('RESP client wire behaviour', () => {
  test('sends only AUTH and LPOP', async () => {
    const { server, port, commands } = await recordingServer('right-key');
    const src = new RespSource({ host: '127.0.0.1', port, key: 'right-key' });
    try {
      // Records come as the bytes on the wire (RawRecord); the spool stores them as they are.
      assert.deepEqual((await src.pop(10)).map(String), ['{}']);
      assert.deepEqual((await src.pop(10)).map(String), ['{}']);
      assert.deepEqual(
        commands.map((c) => c[0].toUpperCase()),
        ['AUTH', 'LPOP', 'LPOP'],
      );
      assert.deepEqual(commands[1], ['lpop', 'usage', '10']);
    } finally {
      await src.close();
      server.close();
    }
  });

  test('a rejected key is an auth error, sent once, never retried', async () => {
    const { server, port, commands } = await recordingServer('right-key');
    let connections = 0;
    server.on('connection', () => connections++);
    const src = new RespSource({ host: '127.0.0.1', port, key: 'wrong-key' });
    try {
      await assert.rejects(
        src.pop(10),
        (e: unknown) => e instanceof SourceError && e.kind === 'auth' && !e.message.includes('wrong-key'),
      );
      await assert.rejects(src.pop(10), (e: unknown) => e instanceof SourceError && e.kind === 'auth');
      // "Never retried" made observable: the client hangs up for good, and a retry needs a new connection.
      const open = () => new Promise<number>((r) => server.getConnections((_, n) => r(n)));
      await waitFor(async () => ({ ok: (await open()) === 0, seen: `${await open()} open connection(s)` }), {
        what: 'the client to hang up after the rejected AUTH',
      });
      assert.equal(connections, 1, 'one connection in all: no reconnect');
      assert.equal(commands.filter((c) => c[0].toUpperCase() === 'AUTH').length, 1);
    } finally {
      await src.close();
      server.close();
    }
  });
});
