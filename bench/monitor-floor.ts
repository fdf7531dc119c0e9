// The drain-and-parse floor as a process of its own: connect, LPOP batches of 1,000 and JSON.parse every
// record, storing nothing, then exit. bench/monitor-e2e.ts bundles it as the CLI is bundled (ioredis
// inside, no TypeScript at run time) and times it from spawn to exit, as it times `monitor run --once`,
// so the two differ only in the work a collector adds to the floor. Prints {"n":records}.
import { Redis } from 'ioredis';

const port = Number(process.argv[2]);
const key = process.argv[3] ?? 'usage';
// The collector's connection options (src/monitor/collectors/resp.ts): no ready check, no client info.
const redis = new Redis({
  host: '127.0.0.1',
  port,
  db: 0,
  protocol: 2,
  enableReadyCheck: false,
  disableClientInfo: true,
  lazyConnect: true,
  maxRetriesPerRequest: 1,
});
await redis.connect();
let n = 0;
let sink = 0;
for (;;) {
  const got = await redis.lpop(key, 1000);
  if (!got || got.length === 0) break;
  for (const s of got) sink += (JSON.parse(s) as { latency_ms?: number }).latency_ms ?? 0;
  n += got.length;
}
redis.disconnect();
if (sink < 0) throw new Error('unreachable');
process.stdout.write(`${JSON.stringify({ n })}\n`);
