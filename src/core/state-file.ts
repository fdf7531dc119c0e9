// codex-quota's `serve --state-file`: the latest results written as JSON after every refresh, for
// automation that used to read codex-quota's file. Shape: `{updatedAt, results}` where results are
// the `quota --json` rows (docs/codex-quota-parity.md says why). Written atomically (temp file, fsync,
// rename), mode 0600 (rows name accounts and emails), one write at a time so an older sweep can never
// land after a newer one; read back at start so the page has data before the first refresh.
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../accounts/atomic-write.ts';
import { fsPromises } from '../runtime/fs.ts';
import type { QuotaCheckResult } from './fleet.ts';
import { type QuotaRow, rowKeepingLastGood } from './quota-rows.ts';

export interface StateFileContent {
  /** ISO time of the sweep the rows come from. */
  updatedAt: string;
  results: QuotaRow[];
}

/** The rows exactly as `quota --json` prints them: a transient failure keeps the last good windows, marked stale. */
export function rowsFromQuotaCheck(result: QuotaCheckResult, now: number): QuotaRow[] {
  return result.checks.map((c) => rowKeepingLastGood(c.account, c.result, c.lastGood, now));
}

export function stateFileContent(rows: readonly QuotaRow[], now: number): StateFileContent {
  return { updatedAt: new Date(now).toISOString(), results: [...rows] };
}

/** Fails early with a clear message when the file cannot be written (instead of a silent miss per sweep). */
export async function checkStateFilePath(
  path: string,
): Promise<{ ok: true; path: string } | { ok: false; error: string }> {
  const full = resolve(path);
  const dir = dirname(full);
  const info = await fsPromises()
    .stat(dir)
    .catch(() => null);
  if (!info?.isDirectory())
    return { ok: false, error: `--state-file: directory ${dir} does not exist; create it first` };
  try {
    await fsPromises().access(dir, fsPromises().constants.W_OK);
  } catch {
    return { ok: false, error: `--state-file: directory ${dir} is not writable` };
  }
  const existing = await fsPromises()
    .stat(full)
    .catch(() => null);
  if (existing?.isDirectory()) return { ok: false, error: `--state-file: ${full} is a directory; give a file name` };
  return { ok: true, path: full };
}

export async function writeStateFile(path: string, rows: readonly QuotaRow[], now: number): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(stateFileContent(rows, now), null, 2)}\n`, { mode: 0o600 });
}

/** Built on first read: zod loads only when a state file is read back, never on a plain report. */
async function stateSchema() {
  const { z } = await import('zod');
  return z.object({
    updatedAt: z.string(),
    results: z.array(z.looseObject({ name: z.string() })),
  });
}

/** The file as last written; null when it does not exist yet. A broken file is an error value, never a crash. */
export async function readStateFile(
  path: string,
): Promise<{ ok: true; content: StateFileContent | null } | { ok: false; error: string }> {
  let text: string;
  try {
    text = await fsPromises().readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, content: null };
    return { ok: false, error: `cannot read state file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `state file ${path} is not JSON; it will be replaced after the next refresh` };
  }
  const parsed = (await stateSchema()).safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      error: `state file ${path} is not {updatedAt, results[]}; it will be replaced after the next refresh`,
    };
  }
  return { ok: true, content: parsed.data as unknown as StateFileContent };
}

/**
 * One writer per file for a long-running server: writes run one after another, and a write asked
 * for while one runs is coalesced into the newest rows only. Errors go to onError (once per failure),
 * never out of the refresh that triggered them.
 */
export function createStateFileWriter(
  path: string,
  options: { clock?: () => number; onError?: (message: string) => void } = {},
) {
  const clock = options.clock ?? Date.now;
  let chain: Promise<void> = Promise.resolve();
  let latest: readonly QuotaRow[] | null = null;
  return {
    /** Resolves once these rows (or newer ones) are on disk, or the failure was reported. */
    write(rows: readonly QuotaRow[]): Promise<void> {
      latest = rows;
      chain = chain.then(async () => {
        if (!latest) return; // an earlier queued write already took these rows
        const taken = latest;
        latest = null;
        try {
          await writeStateFile(path, taken, clock());
        } catch (error) {
          const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          options.onError?.(`cannot write state file ${path}: ${why}`);
        }
      });
      return chain;
    },
  };
}
