// `codex-fleet monitor run|status|import`: request monitoring. Thin: the work is in src/monitor.
// The CPA management key comes from the configured server (`codex-fleet cpa add`), never from argv.
import type { Command } from 'commander';
import { resolveStoreLocation } from '../../core/config.ts';
import { CpaServers } from '../../cpa/servers.ts';
import { leaseNameFor } from '../../monitor/collector.ts';
import { importJsonl } from '../../monitor/collectors/jsonl.ts';
import {
  COLLECTOR_VIAS,
  type CollectorTarget,
  type CollectorVia,
  sourceFor,
  startCollector,
} from '../../monitor/run.ts';
import { createMonitorService } from '../../monitor/service.ts';
import type { Db } from '../../store/db.ts';
import { LeaseStore } from '../../store/lease.ts';
import { openStore } from '../../store/open.ts';
import { SettingsRepo } from '../../store/settings-repo.ts';
import { jsonOutput } from '../json-output.ts';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

interface RunFlags extends StoreFlags {
  server?: string;
  via: string;
  redis?: string;
  redisKeyEnv?: string;
  queue?: string;
  once?: boolean;
}

const store = (cmd: Command) =>
  cmd
    .option('--data-dir <dir>', 'where the SQLite store and the spool live (env CODEX_FLEET_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env CODEX_FLEET_DATABASE_URL)')
    .option('--json', 'machine-readable output');

async function withDb<T>(flags: StoreFlags, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openStore(resolveStoreLocation(flags));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function targetFrom(flags: RunFlags, db: Db): Promise<CollectorTarget> {
  if (!(COLLECTOR_VIAS as readonly string[]).includes(flags.via)) {
    throw new Error(`--via must be one of ${COLLECTOR_VIAS.join(', ')}, got "${flags.via}"`);
  }
  if (flags.redis) {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(flags.redis);
    if (!m) throw new Error(`--redis must be host:port, got "${flags.redis}"`);
    const key = flags.redisKeyEnv ? process.env[flags.redisKeyEnv] : undefined;
    if (flags.redisKeyEnv && !key) throw new Error(`environment variable ${flags.redisKeyEnv} is empty`);
    return { kind: 'redis', host: m[1], port: Number(m[2]), key, queue: flags.queue };
  }
  const servers = new CpaServers(new SettingsRepo(db));
  const views = await servers.list();
  const name = flags.server ?? (views.length === 1 ? views[0].name : undefined);
  if (!name) {
    throw new Error(
      views.length === 0
        ? 'no CPA server configured: add one with `codex-fleet cpa add <name> <url>`, or pass --redis host:port'
        : `several CPA servers are configured (${views.map((v) => v.name).join(', ')}): pick one with --server <name>`,
    );
  }
  const view = views.find((v) => v.name === name);
  const config = await servers.config(name);
  if (!view || !config)
    throw new Error(`no CPA server named "${name}" (configured: ${views.map((v) => v.name).join(', ') || 'none'})`);
  if (view.breaker.open) {
    throw new Error(
      `CPA server "${name}" rejected its key before (${view.breaker.reason}); fix it with \`codex-fleet cpa add ${name} <url>\` first`,
    );
  }
  return { kind: 'cpa', server: config, via: flags.via as CollectorVia };
}

export function register(program: Command): void {
  const monitor = program
    .command('monitor')
    .description('request monitoring: collect CPA usage records, show collector status, import JSONL');

  store(
    monitor
      .command('run')
      .description('consume a CPA usage queue (exactly one consumer per queue) until stopped')
      .option('--server <name>', 'configured CPA server (default: the only one)')
      .option('--via <how>', `resp (LPOP), subscribe, or http (usage-queue endpoint)`, 'resp')
      .option('--redis <host:port>', 'consume a plain Redis list instead of a CPA server')
      .option('--redis-key-env <name>', 'environment variable holding the Redis password')
      .option('--queue <name>', 'Redis list name (default usage)')
      .option('--once', 'drain what is queued now, then exit'),
  ).action(async (flags: RunFlags) => {
    await withDb(flags, async (db) => {
      const mon = await createMonitorService({ db });
      const { dataDir } = resolveStoreLocation(flags);
      const target = await targetFrom(flags, db);
      const running = await startCollector({
        db,
        monitor: mon,
        dataDir,
        target,
        loop: !flags.once,
        storageThread: true,
      });
      if (!running.started.ok) {
        process.exitCode = 3;
        if (flags.json)
          console.log(jsonOutput({ refused: true, holder: running.started.holder, message: running.started.message }));
        else console.error(`codex-fleet: ${running.started.message}`);
        return;
      }
      const c = running.collector;
      if (!flags.json)
        console.error(
          `collecting from ${c.stats.queue} as ${c.stats.holder} (replayed ${running.started.replayed} spooled records)`,
        );
      if (flags.once) {
        while ((await c.runOnce()) > 0) {
          // drain what is queued now
        }
        await running.stop();
      } else {
        const stop = () => void running.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const ticker = flags.json
          ? null
          : setInterval(() => {
              const s = c.stats;
              console.error(
                `${s.state}: popped ${s.popped}, stored ${s.inserted}, duplicates ${s.duplicates}, quarantined ${s.quarantined}, errors ${s.errors}${s.lastError ? ` (last: ${s.lastError})` : ''}`,
              );
            }, 10_000);
        await running.done;
        if (ticker) clearInterval(ticker);
        await running.stop();
      }
      if (flags.json) console.log(jsonOutput(c.stats));
      else
        console.error(
          `${c.stats.state}: stored ${c.stats.inserted} events (${c.stats.duplicates} duplicates, ${c.stats.quarantined} quarantined)`,
        );
      if (c.stats.state === 'auth_failed' || c.stats.state === 'lost_lease') {
        console.error(`codex-fleet: ${c.stats.lastError}`);
        process.exitCode = 1;
      }
    });
  });

  store(
    monitor
      .command('status')
      .description('who holds each usage queue, how many events are stored, and what was quarantined')
      .option('--server <name>', 'only this CPA server'),
  ).action(async (flags: StoreFlags & { server?: string }) => {
    await withDb(flags, async (db) => {
      const servers = new CpaServers(new SettingsRepo(db));
      const leases = new LeaseStore(db);
      const queues = [];
      for (const v of await servers.list()) {
        if (flags.server && v.name !== flags.server) continue;
        const config = await servers.config(v.name);
        if (!config) continue;
        const src = sourceFor({ kind: 'cpa', server: config, via: 'http' });
        const lease = await leases.current(leaseNameFor(src.queueId));
        queues.push({
          server: v.name,
          queue: src.queueId,
          holder: lease?.holder ?? null,
          leaseExpiresAt: lease ? new Date(lease.expiresAt).toISOString() : null,
        });
      }
      const counts = await db.get<{ n: number; newest: number | null; oldest: number | null }>(
        'SELECT COUNT(*) AS n, MAX(ts) AS newest, MIN(ts) AS oldest FROM mon_event',
      );
      const quarantined = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_quarantine');
      const iso = (v: number | null | undefined) => (v == null ? null : new Date(Number(v)).toISOString());
      const status = {
        queues,
        events: Number(counts?.n ?? 0),
        oldestEvent: iso(counts?.oldest),
        newestEvent: iso(counts?.newest),
        quarantined: Number(quarantined?.n ?? 0),
      };
      if (flags.json) {
        console.log(jsonOutput(status));
        return;
      }
      if (queues.length === 0)
        console.log('no CPA servers configured (add one with: codex-fleet cpa add <name> <url>)');
      for (const q of queues)
        console.log(
          `${q.server} ${q.queue}: ${q.holder ? `consumed by ${q.holder} (lease until ${q.leaseExpiresAt})` : 'no collector running'}`,
        );
      console.log(
        `${status.events} events stored${status.newestEvent ? ` (${status.oldestEvent} … ${status.newestEvent})` : ''}; ${status.quarantined} malformed records quarantined`,
      );
    });
  });

  store(
    monitor
      .command('import')
      .description('import usage records from a JSONL file, or - for stdin')
      .argument('<file>', 'JSONL file or -'),
  ).action(async (file: string, flags: StoreFlags) => {
    await withDb(flags, async (db) => {
      const mon = await createMonitorService({ db });
      const tty = process.stderr.isTTY && !flags.json;
      const result = await importJsonl(file === '-' ? process.stdin : file, mon.ingest, {
        onProgress: tty ? (r) => process.stderr.write(`\r\u001b[2K${r.lines} lines, ${r.inserted} stored`) : undefined,
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new Error(`cannot read ${file}: no such file`);
        throw error;
      });
      if (tty) process.stderr.write('\n');
      if (flags.json) console.log(jsonOutput(result));
      else
        console.log(
          `${result.lines} lines: ${result.inserted} stored, ${result.duplicates} duplicates, ${result.quarantined} malformed (quarantined)`,
        );
    });
  });
}
