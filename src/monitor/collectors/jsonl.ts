// Usage records from a JSONL file or stdin (`codex-fleet monitor import <file|->`), in batches.
// A file is not a queue: nothing is popped, so there is no lease and no spool; dedupe makes a
// repeated import harmless.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { IngestResult, MonitorIngest } from '../ingest.ts';

export interface ImportResult extends IngestResult {
  lines: number;
}

export async function importJsonl(
  input: NodeJS.ReadableStream | string,
  ingest: MonitorIngest,
  options: { batchSize?: number; onProgress?: (r: ImportResult) => void } = {},
): Promise<ImportResult> {
  const stream = typeof input === 'string' ? createReadStream(input, { encoding: 'utf8' }) : input;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const size = options.batchSize ?? 5000;
  const total: ImportResult = { lines: 0, received: 0, inserted: 0, duplicates: 0, quarantined: 0 };
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const r = await ingest.ingestRaw(batch);
    batch = [];
    total.received += r.received;
    total.inserted += r.inserted;
    total.duplicates += r.duplicates;
    total.quarantined += r.quarantined;
    options.onProgress?.(total);
  };
  for await (const line of lines) {
    total.lines++;
    if (line.trim() === '') continue;
    batch.push(line);
    if (batch.length >= size) await flush();
  }
  await flush();
  return total;
}
