// `codex-fleet monitor import|run|status` as an operator runs them: real CLI process, real store,
// real redis-server for `run`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type RedisServer, tryStartRedis } from '../support/redis.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-moncli-'));
const started = await tryStartRedis();
const redis: RedisServer | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('import: a file, then the same file again (deduped), then stdin with a malformed line', async () => {
  const dataDir = join(dir, 'import');
  const file = join(dir, 'usage.jsonl');
  const recs = [...generateRecords(300, { start: Date.UTC(2026, 10, 1), stepMs: 1000, seed: 11 })];
  writeFileSync(file, `${recs.map((r) => JSON.stringify(r)).join('\n')}\n\n`);
  const first = await runCli(['monitor', 'import', file, '--data-dir', dataDir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), {
    lines: 301,
    received: 300,
    inserted: 300,
    duplicates: 0,
    quarantined: 0,
  });
  const again = await runCli(['monitor', 'import', file, '--data-dir', dataDir, '--json']);
  assert.equal(JSON.parse(again.stdout).duplicates, 300);
  const more = [...generateRecords(5, { start: Date.UTC(2026, 10, 2), stepMs: 1000, seed: 12, style: 'short' }, 1000)];
  const stdin = await runCli(['monitor', 'import', '-', '--data-dir', dataDir], {
    input: `${more.map((r) => JSON.stringify(r)).join('\n')}\n{"broken":\n`,
  });
  assert.equal(stdin.code, 0, stdin.stderr);
  assert.match(stdin.stdout, /5 stored, 0 duplicates, 1 malformed/);
  const status = await runCli(['monitor', 'status', '--data-dir', dataDir, '--json']);
  const s = JSON.parse(status.stdout);
  assert.equal(s.events, 305);
  assert.equal(s.quarantined, 1);
  const missing = await runCli(['monitor', 'import', join(dir, 'nope.jsonl'), '--data-dir', dataDir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such file/);
});

test('run --once drains a Redis queue; bad flags say what is wrong', { skip }, async () => {
  const dataDir = join(dir, 'run');
  const c = redis!.client();
  const recs = [...generateRecords(2500, { start: Date.UTC(2026, 10, 3), stepMs: 100, seed: 13 })];
  await c.rpush('usage', ...recs.map((r) => JSON.stringify(r)));
  const run = await runCli([
    'monitor',
    'run',
    '--redis',
    `127.0.0.1:${redis!.port}`,
    '--once',
    '--data-dir',
    dataDir,
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const stats = JSON.parse(run.stdout);
  assert.equal(stats.inserted, 2500);
  assert.equal(stats.state, 'stopped');
  assert.equal(await c.llen('usage'), 0);
  const noServer = await runCli(['monitor', 'run', '--data-dir', dataDir]);
  assert.equal(noServer.code, 1);
  assert.match(noServer.stderr, /no CPA server configured/);
  const badVia = await runCli(['monitor', 'run', '--via', 'carrier-pigeon', '--data-dir', dataDir]);
  assert.match(badVia.stderr, /--via must be one of resp, subscribe, http/);
});
