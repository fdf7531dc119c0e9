// Bulk fill for the monitoring benchmark: generates realistic events inside SQLite (a recursive CTE
// with random()), in chunks, using the dictionary ids a real ingest already created, then builds the
// rollups for those rows with INSERT … SELECT … GROUP BY. Ingest speed is measured separately (the
// collector path); this only gets the database to 10M rows in minutes on a small machine.
import { CACHE_STATES } from '../src/monitor/event.ts';
import { GRAIN_DAY, GRAIN_HOUR, GRAIN_MINUTE } from '../src/monitor/ingest.ts';
import { RAW_SUMS_SQL } from '../src/monitor/pairs.ts';
import { dedupeKeyOf } from '../src/monitor/record.ts';
import { ROLLUP_SUMS } from '../src/monitor/rollup-sums.ts';
import type { Db } from '../src/store/db.ts';

const KINDS = { model: 3, account: 6, endpoint: 5, effort: 10, tier: 11, failureType: 9 } as const;

/** Maps (kind, n) → dictionary id in a temp table so generated rows pick real ids. Returns counts. */
export async function prepareFill(db: Db): Promise<Record<string, number>> {
  await db.exec('CREATE TEMP TABLE IF NOT EXISTS bench_map (k INTEGER PRIMARY KEY, id INTEGER NOT NULL)');
  await db.exec('DELETE FROM bench_map');
  const counts: Record<string, number> = {};
  let base = 1;
  for (const [name, kind] of Object.entries(KINDS)) {
    const rows = await db.query<{ id: number }>('SELECT id FROM mon_dict WHERE kind = ? ORDER BY id', [kind]);
    for (let n = 0; n < rows.length; n++)
      await db.run('INSERT INTO bench_map (k, id) VALUES (?, ?)', [base * 1000 + n, rows[n].id]);
    counts[name] = rows.length;
    counts[`${name}Base`] = base * 1000;
    base++;
  }
  const keys = await db.query<{ id: number }>('SELECT id FROM mon_api_key ORDER BY id');
  for (let n = 0; n < keys.length; n++)
    await db.run('INSERT INTO bench_map (k, id) VALUES (?, ?)', [base * 1000 + n, keys[n].id]);
  counts.apiKey = keys.length;
  counts.apiKeyBase = base * 1000;
  const one = async (kind: number) =>
    (await db.get<{ id: number }>('SELECT id FROM mon_dict WHERE kind = ? ORDER BY id LIMIT 1', [kind]))?.id ?? null;
  counts.provider = (await one(1)) ?? 0;
  counts.executor = (await one(2)) ?? 0;
  counts.authType = (await one(7)) ?? 0;
  return counts;
}

const pick = (c: Record<string, number>, name: string, expr: string) =>
  c[name] > 0 ? `(SELECT id FROM bench_map WHERE k = ${c[`${name}Base`]} + (${expr}) % ${c[name]})` : 'NULL';

/** Inserts `count` events numbered from `offset`, spaced `stepMs` from `start`. */
export async function fillEvents(
  db: Db,
  c: Record<string, number>,
  offset: number,
  count: number,
  start: number,
  stepMs: number,
): Promise<void> {
  const hit = CACHE_STATES.indexOf('hit');
  const miss = CACHE_STATES.indexOf('miss');
  await db.transaction(async (tx) => {
    const before = await tx.get<{ m: number | null }>('SELECT MAX(id) AS m FROM mon_event');
    // Each event's dedupe key is the one ingest derives from its request id, so a lookup by request id
    // finds it as it would a collected event (random keys made the bench's lookup time a miss).
    await tx.exec('CREATE TEMP TABLE IF NOT EXISTS bench_keys (i INTEGER PRIMARY KEY, k INTEGER NOT NULL)');
    await tx.run('DELETE FROM bench_keys');
    // 10,000 at a time, so the bench's own garbage stays small beside the RSS it reports.
    for (let from = offset; from < offset + count; from += 10_000) {
      const keys: string[] = [];
      for (let i = from; i < Math.min(from + 10_000, offset + count); i++)
        keys.push(String(dedupeKeyOf(`req-fill-${i}`, null)));
      await tx.run('INSERT INTO bench_keys (i, k) SELECT ? + key, CAST(value AS INTEGER) FROM json_each(?)', [
        from,
        JSON.stringify(keys),
      ]);
    }
    // node:sqlite binds a JS number as REAL: without the CAST every request id read 'req-fill-5.0'.
    await tx.run(
      `WITH RECURSIVE seq(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < ?),
       r AS (SELECT i, abs(random()) AS a, abs(random()) AS b, abs(random()) AS c FROM seq),
       g AS (SELECT i, a, b, c, (a % 100 < 5) AS f, 500 + b % 20000 AS input,
                    CASE WHEN c % 10 < 6 THEN (b % 20000) * (c % 97) / 100 ELSE 0 END AS cached FROM r)
       INSERT INTO mon_event (ts, dedupe_key, status, failed, latency_ms, ttft_ms, provider_id, executor_id, model_id, alias_id,
         endpoint_id, account_id, auth_type_id, api_key_id, project_id, failure_type_id, effort_id, tier_id, cache_state,
         input_tokens, output_tokens, reasoning_tokens, cached_tokens, cache_creation_tokens, total_tokens, request_id)
       SELECT ? + CAST(i * ? AS INTEGER), (SELECT k FROM bench_keys WHERE bench_keys.i = g.i),
         CASE WHEN f THEN (CASE b % 4 WHEN 0 THEN 429 WHEN 1 THEN 401 WHEN 2 THEN 502 ELSE 500 END) ELSE 200 END,
         f, 200 + (b % 20000) * (c % 1000) / 1000, 50 + c % 2000,
         ${c.provider || 'NULL'}, ${c.executor || 'NULL'},
         ${pick(c, 'model', '((a / 7) % 100) * ((a / 700) % 100) / 1250')}, NULL,
         ${pick(c, 'endpoint', 'c / 11')}, ${pick(c, 'account', 'a / 13')}, ${c.authType || 'NULL'}, ${pick(c, 'apiKey', 'b / 17')}, NULL,
         CASE WHEN f THEN ${pick(c, 'failureType', 'b % 4')} ELSE NULL END,
         ${pick(c, 'effort', 'i')}, ${pick(c, 'tier', 'CASE WHEN c % 10 = 0 THEN 1 ELSE 0 END')},
         CASE WHEN cached > 0 THEN ${hit} ELSE ${miss} END,
         input, CASE WHEN f THEN 0 ELSE 50 + c % 3000 END, CASE WHEN f THEN 0 ELSE (50 + c % 3000) * (a % 50) / 100 END,
         cached, 0, input + CASE WHEN f THEN 0 ELSE 50 + c % 3000 END, 'req-fill-' || i
       FROM g`,
      [offset, offset + count - 1, start, stepMs],
    );
    const lo = Number(before?.m ?? 0) + 1;
    await tx.run(
      `INSERT INTO mon_failure (event_id, error_type, error_code, message)
       SELECT id, 'usage_limit_reached', NULL, 'The usage limit has been reached' FROM mon_event WHERE id >= ? AND failed = 1`,
      [lo],
    );
    await tx.run(
      `INSERT INTO mon_failure_raw (event_id, body) SELECT id,
       '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":3600}}'
       FROM mon_event WHERE id >= ? AND failed = 1`,
      [lo],
    );
    for (const [grain, dim, value] of PLAN) await tx.run(rollupSql(grain, dim, value), [lo]);
  });
}

const PLAN: Array<[number, number, string]> = [
  [GRAIN_MINUTE, 0, '0'],
  ...[GRAIN_HOUR, GRAIN_DAY].flatMap(
    (g): Array<[number, number, string]> => [
      [g, 0, '0'],
      [g, 1, 'COALESCE(e.account_id, 0)'],
      [g, 2, 'COALESCE(e.api_key_id, 0)'],
      [g, 3, 'e.status'],
      [g, 4, 'COALESCE(e.project_id, 0)'],
    ],
  ),
];

function rollupSql(grain: number, dim: number, value: string): string {
  const bucket = `(e.ts - (e.ts % ${grain}))`;
  const key = ['grain', 'bucket', 'dim', 'dim_value', 'provider_id', 'model_id', 'tier_id'];
  return `INSERT INTO mon_rollup (${[...key, ...ROLLUP_SUMS].join(',')})
SELECT ${grain}, ${bucket}, ${dim}, ${value}, COALESCE(e.provider_id, 0), COALESCE(e.model_id, 0), COALESCE(e.tier_id, 0),
${ROLLUP_SUMS.map((s) => RAW_SUMS_SQL[s]).join(', ')}
FROM mon_event e WHERE e.id >= ?
GROUP BY ${bucket}, ${value === '0' ? '' : `${value}, `}COALESCE(e.provider_id, 0), COALESCE(e.model_id, 0), COALESCE(e.tier_id, 0)
ON CONFLICT (${key.join(',')}) DO UPDATE SET ${ROLLUP_SUMS.map((s) => `${s} = mon_rollup.${s} + excluded.${s}`).join(', ')}`;
}
