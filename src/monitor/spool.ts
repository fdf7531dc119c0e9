// The local spool: every popped record is appended and fsynced here BEFORE it is processed, and the
// file is emptied only after the database committed it. A crash in between loses nothing: the next
// start replays the spool, and dedupe makes the replay harmless.
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

export interface SpoolReplay {
  records: string[];
  /** Lines cut short by a crash in the middle of an append (the record never reached the spool whole). */
  torn: number;
}

export class Spool {
  readonly path: string;
  private fd: number | null = null;
  private pending = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Opens (creating, mode 0600) and returns what a previous run left behind. */
  open(): SpoolReplay {
    this.fd = openSync(this.path, 'a+', 0o600);
    const text = readFileSync(this.path, 'utf8');
    const records: string[] = [];
    let torn = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const v = JSON.parse(line);
        if (typeof v === 'string') records.push(v);
        else torn++;
      } catch {
        torn++;
      }
    }
    this.pending = records.length;
    return { records, torn };
  }

  /** Appends records (each as one JSON string line) and waits until they are on disk. */
  append(records: readonly string[]): void {
    if (this.fd === null) throw new Error('spool is not open');
    if (records.length === 0) return;
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    fsyncSync(this.fd);
    this.pending += records.length;
  }

  /** Empties the spool once its records are committed. */
  clear(): void {
    if (this.fd === null) throw new Error('spool is not open');
    ftruncateSync(this.fd, 0);
    fsyncSync(this.fd);
    this.pending = 0;
  }

  get size(): number {
    return this.pending;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
