// Inspection runs with their results and logs. A run still marked running when no process holds it
// (the process crashed) is marked failed on the next start, never left running forever.

import type { InspectionResult, SuggestedAction } from '../domain/inspection.ts';
import type { Clock } from '../domain/time.ts';
import { nodeCrypto } from '../runtime/crypto.ts';
import type { Db } from '../store/db.ts';

export const RUN_STATUSES = ['running', 'done', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type RunTrigger = 'manual' | 'schedule';

export interface InspectionRun {
  id: string;
  trigger: RunTrigger;
  source: string | null;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  counts: Partial<Record<SuggestedAction, number>>;
  log: string[];
  holder: string | null;
  error: string | null;
}

interface RunRow {
  id: string;
  trigger: string;
  source: string | null;
  status: string;
  started_at: number;
  finished_at: number | null;
  counts: string;
  log: string;
  holder: string | null;
  error: string | null;
}

const toRun = (r: RunRow): InspectionRun => ({
  id: r.id,
  trigger: r.trigger as RunTrigger,
  source: r.source,
  status: r.status as RunStatus,
  startedAt: Number(r.started_at),
  finishedAt: r.finished_at == null ? null : Number(r.finished_at),
  counts: JSON.parse(r.counts),
  log: JSON.parse(r.log),
  holder: r.holder,
  error: r.error,
});

export class RunsRepo {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  async start(trigger: RunTrigger, source: string | null, holder: string): Promise<InspectionRun> {
    const run: InspectionRun = {
      id: nodeCrypto().randomUUID(),
      trigger,
      source,
      status: 'running',
      startedAt: this.#clock(),
      finishedAt: null,
      counts: {},
      log: [],
      holder,
      error: null,
    };
    await this.#db.run(
      'INSERT INTO inspection_runs (id, trigger, source, status, started_at, counts, log, holder) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [run.id, trigger, source, run.status, run.startedAt, '{}', '[]', holder],
    );
    return run;
  }

  async saveResults(runId: string, results: readonly InspectionResult[]): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const r of results) {
        await tx.run(
          `INSERT INTO inspection_results (run_id, account_id, account_name, action, state, inspected_at, result)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, account_id) DO UPDATE SET action = excluded.action, state = excluded.state, result = excluded.result`,
          [runId, r.accountId, r.accountName, r.action, r.state, r.inspectedAt, JSON.stringify(r)],
        );
      }
    });
  }

  async finish(
    runId: string,
    status: 'done' | 'failed',
    counts: InspectionRun['counts'],
    log: string[],
    error: string | null = null,
  ) {
    await this.#db.run(
      'UPDATE inspection_runs SET status = ?, finished_at = ?, counts = ?, log = ?, error = ? WHERE id = ?',
      [status, this.#clock(), JSON.stringify(counts), JSON.stringify(log), error, runId],
    );
  }

  async appendLog(runId: string, log: string[]): Promise<void> {
    await this.#db.run('UPDATE inspection_runs SET log = ? WHERE id = ?', [JSON.stringify(log), runId]);
  }

  async get(id: string): Promise<InspectionRun | undefined> {
    const row = await this.#db.get<RunRow>('SELECT * FROM inspection_runs WHERE id = ?', [id]);
    return row ? toRun(row) : undefined;
  }

  async list(limit = 50): Promise<InspectionRun[]> {
    const rows = await this.#db.query<RunRow>('SELECT * FROM inspection_runs ORDER BY started_at DESC LIMIT ?', [
      limit,
    ]);
    return rows.map(toRun);
  }

  async results(runId: string): Promise<InspectionResult[]> {
    const rows = await this.#db.query<{ result: string }>(
      'SELECT result FROM inspection_results WHERE run_id = ? ORDER BY account_name',
      [runId],
    );
    return rows.map((r) => JSON.parse(r.result) as InspectionResult);
  }

  /** Earlier results of one account (newest first), for delete confirmation across inspections. */
  async accountHistory(accountId: string, limit = 20): Promise<InspectionResult[]> {
    const rows = await this.#db.query<{ result: string }>(
      'SELECT result FROM inspection_results WHERE account_id = ? ORDER BY inspected_at DESC LIMIT ?',
      [accountId, limit],
    );
    return rows.map((r) => JSON.parse(r.result) as InspectionResult);
  }

  /** Marks runs left `running` by a holder that is gone as failed. Returns how many. */
  async failOrphans(isAlive: (holder: string | null) => boolean): Promise<number> {
    const running = await this.#db.query<RunRow>("SELECT * FROM inspection_runs WHERE status = 'running'");
    let failed = 0;
    for (const row of running) {
      if (isAlive(row.holder)) continue;
      const log = [...(JSON.parse(row.log) as string[]), 'run interrupted: its process stopped before it finished'];
      await this.finish(row.id, 'failed', JSON.parse(row.counts), log, 'interrupted');
      failed++;
    }
    return failed;
  }

  /** Drops runs (and their results) older than the retention. */
  async prune(maxAgeMs: number): Promise<number> {
    const cutoff = this.#clock() - maxAgeMs;
    return this.#db.transaction(async (tx) => {
      await tx.run(
        'DELETE FROM inspection_results WHERE run_id IN (SELECT id FROM inspection_runs WHERE started_at < ?)',
        [cutoff],
      );
      return (await tx.run("DELETE FROM inspection_runs WHERE started_at < ? AND status <> 'running'", [cutoff]))
        .changes;
    });
  }
}
