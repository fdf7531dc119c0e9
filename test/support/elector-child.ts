// One "instance" for the leader failover test: runs a LeaderElector against PostgreSQL and, while
// leader, records one fenced run per 200 ms slot. Reports events as JSON lines on stdout, including
// "ticked" after every round (renew or acquire), so a test can see that a candidate tried and did not win.
// Usage: node test/support/elector-child.ts <url> <holder> <ttlMs> <intervalMs>
import { LeaderElector } from '../../src/store/leader.ts';
import { LeaseStore } from '../../src/store/lease.ts';
import { openPostgres } from '../../src/store/postgres.ts';

const [url, holder, ttl, interval] = process.argv.slice(2);
const say = (event: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, holder, at: Date.now(), ...extra })}\n`);

const db = await openPostgres(url, { max: 3 });
const leases = new LeaseStore(db);
// The elector schedules its next round once the last one has finished: that is when it "ticked".
const timers = {
  setTimeout: (fn: () => void, ms: number) => {
    say('ticked', { leader: elector.isLeader });
    return setTimeout(fn, ms);
  },
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
};
const elector: LeaderElector = new LeaderElector({
  leases,
  name: 'leader',
  holder,
  ttlMs: Number(ttl),
  intervalMs: Number(interval),
  timers,
});
elector.on('gained', (l) => say('gained', { token: l.token }));
elector.on('lost', (why) => say('lost', { why }));
elector.on('error', (e) => say('error', { message: e.message }));

// The scheduled work: at most one run per slot, and only while the lease row still names us (fencing).
let lastSlot = -1;
const work = setInterval(async () => {
  const token = elector.token;
  const slot = Math.floor(Date.now() / 200);
  if (token === null || slot === lastSlot) return;
  lastSlot = slot;
  const r = await db
    .run(
      `INSERT INTO failover_runs (slot, holder, token)
       SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM leases WHERE name = 'leader' AND holder = ? AND token = ? AND expires_at > ?)`,
      [slot, holder, token, holder, token, Date.now()],
    )
    .catch(() => ({ changes: 0 }));
  if (r.changes > 0) say('ran', { slot, token });
}, 20);

process.on('SIGTERM', async () => {
  clearInterval(work);
  await elector.stop();
  await db.close();
  say('stopped');
  process.exit(0);
});

await elector.start();
say('ready');
