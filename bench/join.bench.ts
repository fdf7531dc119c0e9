// Issue 20: what joining request outcomes to the account views costs. 1,000 accounts (the simulator
// behind the real server and core), monitoring filled to 1M events (JOIN_BENCH_EVENTS=10000000 for
// 10M) at the monitor bench's density (10M per 30 days) ending now, every account's auth_index in the
// data. The core builds the account list once per change and serves it until the next one
// (src/core/account-list-cache.ts); the join's outcomes are read once per refresh (at most every 5 s
// after collector batches). Rows: GET /api/accounts p50/p95 with the join, the same with a batch landing
// before every request, the same with the list rebuilt before every request (another process commits to
// the store), and the one outcomes read itself. Floors in the same run: the same routes with the join off.
import { join as joinPath } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { authIndexFor } from '../src/cpa/auth-index.ts';
import { DB_FILE_NAME } from '../src/store/open.ts';
import { startDemoServer } from '../test/support/demo-server.ts';
import { ApiClient } from '../test/support/fleet-server.ts';
import { fillEvents, prepareFill } from './monitor-fill.ts';
import type { BenchRow } from './types.ts';

const ACCOUNTS = Number(process.env.JOIN_BENCH_ACCOUNTS) || 1000;
const EVENTS = Number(process.env.JOIN_BENCH_EVENTS) || 1_000_000;
const REQUESTS = 40;
const DAY = 86_400_000;
const STEP = (30 * DAY) / 10_000_000;

function p(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The core's announcement that a rebuilt list is served (after a new outcomes read); 10 s at most. */
function nextListAnnouncement(core: import('../src/core/fleet-service.ts').FleetService): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, 10_000);
    const off = core.subscribe((e) => {
      if (e.type === 'accounts' && e.id === undefined) done();
    });
    function done() {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

/** REQUESTS timed GETs, and more while `more()` says so (at most 20 s). */
async function timeGets(api: ApiClient, before?: () => void, more?: () => boolean): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < REQUESTS || (more?.() && performance.now() - start < 20_000); i++) {
    before?.();
    const t = performance.now();
    const res = await api.request('GET', '/api/accounts');
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

export default async function (): Promise<BenchRow[]> {
  const log = (m: string) => process.stderr.write(`join bench: ${m}\n`);
  const s = await startDemoServer(ACCOUNTS);
  try {
    const api = await new ApiClient(s.url).start();
    await api.json('POST', '/api/refresh?wait=true');
    const core = s.service as unknown as import('../src/core/fleet-service.ts').FleetService;
    const mon = core.monitor!.service;
    const join = core.requestOutcomes!;
    const { accounts } = await core.fleet.accounts();
    const indexes = accounts
      .filter((a) => a.sourcePath && a.sourceIndex == null)
      .map((a) => authIndexFor('codex', a.sourcePath!));
    log(`${accounts.length} accounts, ${indexes.length} single files with an auth_index`);
    // One real record per account seeds the dictionary (accounts, models, failure types) the fill picks from.
    const now = Date.now();
    await mon.ingest.ingestRaw(
      indexes.map((authIndex, i) => ({
        timestamp: new Date(now - 10 * DAY + i).toISOString(),
        latency_ms: 300,
        auth_index: authIndex,
        tokens: { input_tokens: 100, output_tokens: 10, total_tokens: 110 },
        failed: i % 3 === 0,
        fail:
          i % 3 === 0
            ? { status_code: 429, body: '{"error":{"type":"usage_limit_reached"}}' }
            : { status_code: 0, body: '' },
        provider: 'codex',
        model: ['gpt-5-codex', 'gpt-5', 'gpt-5-mini'][i % 3],
        api_key: `sk-client-${i % 20}-abcdefghijkl`,
        request_id: `join-seed-${i}`,
      })),
    );
    await join.settled();
    const db = core.fleet.repos.db;
    const ids = await prepareFill(db);
    const start = Date.now() - Math.floor(EVENTS * STEP);
    for (let filled = 0; filled < EVENTS; ) {
      const n = Math.min(100_000, EVENTS - filled);
      await fillEvents(db, ids, filled, n, start, STEP);
      filled += n;
      if (filled % 1_000_000 === 0) log(`${filled} events`);
    }
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const label = `${ACCOUNTS} accounts, ${EVENTS / 1_000_000}M events`;

    // The one read per refresh, cold.
    const reads: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await join.refresh();
      reads.push(performance.now() - t);
    }
    reads.sort((a, b) => a - b);
    // Where the read's time goes (one sample each, logged only).
    {
      const { accountFailures } = await import('../src/monitor/queries.ts');
      const q = mon.queries;
      const t0 = performance.now();
      await q.accounts({ from: Date.now() - DAY, to: Date.now() + 1 });
      const t1 = performance.now();
      await q.accounts({ from: Date.now() - DAY / 24, to: Date.now() + 1 });
      const t2 = performance.now();
      await accountFailures(q, Date.now() - DAY, Date.now() - DAY / 24);
      const t3 = performance.now();
      log(
        `24 h totals ${(t1 - t0).toFixed(0)} ms, 1 h totals ${(t2 - t1).toFixed(0)} ms, failures ${(t3 - t2).toFixed(0)} ms`,
      );
    }
    // The modes interleaved in rounds, so a load change on the shared machine hits all alike.
    const holder = core as unknown as { requestOutcomes: typeof join | null };
    // Another connection's commit (what a CLI run or a second process does) makes the core rebuild the list.
    const other = new DatabaseSync(joinPath(core.config.dataDir, DB_FILE_NAME));
    let version = 0;
    const commitElsewhere = () => other.exec(`PRAGMA user_version = ${++version % 1000}`);
    const warm: number[] = [];
    const cold: number[] = [];
    const floor: number[] = [];
    const rebuilt: number[] = [];
    const rebuiltFloor: number[] = [];
    // Each mode starts on a fresh outcomes read (untimed), so the read the join repeats when its snapshot
    // is 30 s old (the last hour slides) falls between modes, not into whichever mode is running then:
    // its cost is the read rows above, paid at most every 5 s under traffic and every 30 s when idle.
    const freshRead = async () => {
      const rebuiltAfterRead = nextListAnnouncement(core);
      await join.refresh();
      await rebuiltAfterRead;
    };
    for (let round = 0; round < 5; round++) {
      await freshRead();
      warm.push(...(await timeGets(api)));
      // A collector batch before every request: the outcomes are re-read off the request path (at most
      // every 5 s) and the list is rebuilt once after each read; node:sqlite is synchronous, so a request
      // that arrives during the read waits for the query in progress.
      // Timed until the re-read those batches scheduled is in and the list rebuilt after it is served.
      let reread = false;
      const rebuiltAfterRead = nextListAnnouncement(core).then(() => {
        reread = true;
      });
      cold.push(
        ...(await timeGets(
          api,
          () => mon.emitter.emit('events', []),
          () => !reread,
        )),
      );
      await rebuiltAfterRead;
      // Batches that came during that read scheduled one more (5 s later): it lands here too.
      await join.settled();
      await freshRead();
      rebuilt.push(...(await timeGets(api, commitElsewhere)));
      // Floors: the same routes with the join off (what the views cost before issue 20).
      // Switching the join is a bench-only change the core rebuilds the list for: not timed.
      holder.requestOutcomes = null;
      await freshRead();
      floor.push(...(await timeGets(api)));
      await freshRead();
      rebuiltFloor.push(...(await timeGets(api, commitElsewhere)));
      holder.requestOutcomes = join;
      await (await api.request('GET', '/api/accounts')).arrayBuffer();
    }
    other.close();
    for (const list of [warm, cold, floor, rebuilt, rebuiltFloor]) list.sort((a, b) => a - b);
    const listed = (await api.json('GET', '/api/accounts')).body as { accounts: Array<{ requests?: unknown }> };
    const withRequests = listed.accounts.filter((a) => a.requests).length;
    join.close();
    log(`accounts with outcomes ${withRequests}; read p50 ${p(reads, 0.5).toFixed(1)} ms`);
    return [
      {
        name: `join: accounts showing request outcomes (${label})`,
        value: withRequests,
        unit: 'accounts',
        target: 'info',
      },
      {
        name: `join: one outcomes read for all accounts, p50 (${label})`,
        value: p(reads, 0.5),
        unit: 'ms',
        target: 'info',
      },
      {
        name: `join: one outcomes read for all accounts, p95 (${label})`,
        value: p(reads, 0.95),
        unit: 'ms',
        target: 'info',
      },
      { name: `GET /api/accounts p50, join on (${label})`, value: p(warm, 0.5), unit: 'ms', target: 'info' },
      {
        name: `GET /api/accounts p95, join on (${label})`,
        value: p(warm, 0.95),
        unit: 'ms',
        target: '≤ 50',
        ok: p(warm, 0.95) <= 50,
      },
      {
        name: `GET /api/accounts p95, a batch before every request (${label})`,
        value: p(cold, 0.95),
        unit: 'ms',
        target: 'info',
      },
      { name: `floor: GET /api/accounts p95, join off (${label})`, value: p(floor, 0.95), unit: 'ms', target: 'info' },
      { name: 'ratio: join on / join off, p95', value: p(warm, 0.95) / p(floor, 0.95), unit: '×', target: 'info' },
      {
        name: `GET /api/accounts p95, list rebuilt before every request, join on (${label})`,
        value: p(rebuilt, 0.95),
        unit: 'ms',
        target: 'info',
      },
      {
        name: `floor: GET /api/accounts p95, list rebuilt before every request, join off (${label})`,
        value: p(rebuiltFloor, 0.95),
        unit: 'ms',
        target: 'info',
      },
      {
        name: 'ratio: rebuilt join on / rebuilt join off, p95',
        value: p(rebuilt, 0.95) / p(rebuiltFloor, 0.95),
        unit: '×',
        target: 'info',
      },
    ];
  } finally {
    await s.close();
  }
}
