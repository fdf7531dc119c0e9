// A collector in its own process, so tests can SIGKILL it at an exact point of a batch:
//   node monitor-collector-child.ts <sqlitePath> <redisPort> <spoolPath> <holder> [crashAt] [crashBatch] [leaseTtlMs]
// crashAt: "after-spool" (popped and spooled, not committed) or "after-commit" (committed, spool not
// yet emptied). Without crashAt it drains the queue and prints its stats as JSON. holder "-" takes the
// product's default (this host and pid), as `monitor run` does.
import { Collector } from '../../src/monitor/collector.ts';
import { RespSource } from '../../src/monitor/collectors/resp.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import { LeaseStore } from '../../src/store/lease.ts';
import { openStore } from '../../src/store/open.ts';

const [dbPath, port, spoolPath, holder, crashAt, crashBatchText, leaseTtlText] = process.argv.slice(2);
const crashBatch = Number(crashBatchText || 1);
const db = await openStore({ databaseUrl: `sqlite:${dbPath}` });
const mon = await createMonitorService({ db });
let batches = 0;
// The crash: SIGKILL as soon as no LPOP reply is on the wire (the next batch is popped while this one
// commits). A reply on the wire is lost to any consumer, LPOP being destructive (docs/monitoring.md);
// the crash points test everything after it. The commit never returns, so its spool is never emptied.
const crash = () =>
  new Promise<never>(() => {
    collector.haltSoon(() => process.kill(process.pid, 'SIGKILL'));
  });
// Every commit goes through one of these: parsed batches, or raw records replayed from the spool.
for (const method of ['ingestParsed', 'ingestRaw'] as const) {
  const original = mon.ingest[method].bind(mon.ingest) as (input: never) => ReturnType<typeof mon.ingest.ingestRaw>;
  mon.ingest[method] = async (input: never) => {
    batches++;
    if (crashAt === 'after-spool' && batches === crashBatch) await crash();
    const r = await original(input);
    if (crashAt === 'after-commit' && batches === crashBatch) await crash();
    return r;
  };
}
const collector = new Collector({
  source: new RespSource({ host: '127.0.0.1', port: Number(port) }),
  ingest: mon.ingest,
  leases: new LeaseStore(db),
  spoolPath,
  holder: holder === '-' ? undefined : holder,
  popSize: 500,
  maxBatch: 2000,
  // Short lease by default: a killed child's lease (another holder name) expires quickly for the next.
  leaseTtlMs: Number(leaseTtlText || 3000),
});
const started = await collector.start();
if (!started.ok) {
  console.log(JSON.stringify({ refused: started.holder, message: started.message }));
  await db.close();
  process.exit(3);
}
while ((await collector.runOnce()) > 0) {
  // drain
}
await collector.stop();
console.log(JSON.stringify(collector.stats));
await db.close();
