// `codex-fleet serve --collect` as an operator starts it (no Node flags): N CPA v7.2 records in a real
// Redis list standing in for CPA's usage queue (RESP, AUTH with the management key), drained by the
// server's collector; peak RSS of every process of the server (the one started and, when it
// relaunches itself with heap limits, its child) read from the kernel (VmHWM).
// MONITOR_SERVE_EVENTS sets N (default 200k); MONITOR_SERVE_NO_LIMITS=1 measures the same server as it
// was before it set its own limits (the relaunch is skipped by posing as the relaunched child).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { resolveConfig } from '../src/core/config.ts';
import { Fleet } from '../src/core/fleet.ts';
import { CpaServers } from '../src/cpa/servers.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import { freePort } from '../test/support/cpa.ts';
import { pushUsageRecords } from '../test/support/monitor-events.ts';
import { tryStartRedis } from '../test/support/redis.ts';

const KEY = 'bench-management-key';

export interface ServeResult {
  n: number;
  seconds: number;
  rows: number;
  left: number;
  /** Peak RSS per process (MB): the process started first, then any relaunched child. */
  peakRssMb: number[];
}

/** Peak RSS (VmHWM, MB) of a process, or null once it is gone. */
function hwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function serveCollectRss(
  n: number,
  cli: string,
  noLimits = false,
): Promise<ServeResult | { skip: string }> {
  const redis = await tryStartRedis();
  if ('skip' in redis) return redis;
  const dir = mkdtempSync(join(tmpdir(), 'cf-monserve-'));
  let server: ChildProcess | null = null;
  try {
    const push = redis.client();
    await pushUsageRecords(push, n);
    await push.config('SET', 'requirepass', KEY);
    push.disconnect();
    const dataDir = join(dir, 'data');
    mkdirSync(join(dir, 'account'));
    const fleet = await Fleet.open(resolveConfig({ dataDir, accountDir: join(dir, 'account') }, {}));
    const added = await new CpaServers(fleet.repos.settings).upsert({
      name: 'relay',
      url: `http://127.0.0.1:${redis.port}`,
      managementKey: KEY,
    });
    await fleet.close();
    if (!added.ok) throw new Error('could not register the queue as a CPA server');
    const port = await freePort();
    const args = ['serve', '--port', String(port), '--data-dir', dataDir, '--account-dir', join(dir, 'account')];
    const t = performance.now();
    server = spawn(process.execPath, [cli, ...args, '--interval-seconds', '0', '--collect', 'relay:resp'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        ...(noLimits ? { CODEX_FLEET_COLLECTOR_PARENT: String(process.pid) } : {}),
      },
    });
    let log = '';
    server.stderr?.on('data', (d) => {
      log += d;
    });
    const root = server.pid as number;
    const peaks = new Map<number, number>();
    const db = openSqlite(join(dataDir, 'codex-fleet.db'));
    let rows = 0;
    const deadline = Date.now() + 300_000;
    for (;;) {
      for (const pid of [root, ...children(root)]) {
        const mb = hwm(pid);
        if (mb !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, mb));
      }
      if (server.exitCode !== null) throw new Error(`serve exited ${server.exitCode}: ${log.slice(-500)}`);
      try {
        rows = Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event'))?.n ?? 0);
      } catch {
        rows = 0; // the schema is not there yet
      }
      if (rows >= n) break;
      if (Date.now() > deadline) throw new Error(`only ${rows} of ${n} rows after 300 s: ${log.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - t) / 1000;
    await db.close();
    const auth = new Redis({ host: '127.0.0.1', port: redis.port, password: KEY });
    const left = await auth.llen('usage');
    auth.disconnect();
    return { n, seconds, rows, left, peakRssMb: [...peaks.values()].map((v) => Math.round(v)) };
  } finally {
    if (server && server.exitCode === null) {
      const s = server;
      s.kill('SIGTERM');
      await new Promise((r) => s.once('exit', r));
    }
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const cli = join(import.meta.dirname, '../src/cli/main.ts');
  const n = Number(process.env.MONITOR_SERVE_EVENTS ?? 200_000);
  const r = await serveCollectRss(n, cli, process.env.MONITOR_SERVE_NO_LIMITS === '1');
  console.log(JSON.stringify(r, null, 1));
}
