// The local spool: every popped record is written here BEFORE it is processed, and the file is
// emptied only after the database committed it. A crash in between loses nothing: the next start
// replays the spool, and dedupe makes the replay harmless. write() puts the records in the kernel
// (a SIGKILL cannot lose them); sync() makes them survive a power cut and runs on the thread pool,
// so the collector parses and pops meanwhile; commit waits for every sync first.
import {
  closeSync,
  fsync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
  writevSync,
} from 'node:fs';
import type { RawRecord } from './collectors/types.ts';

export interface SpoolReplay {
  records: string[];
  /** Lines cut short by a crash in the middle of a write (the record never reached the spool whole). */
  torn: number;
}

// One record per line. A record is written as it came (CPA's compact JSON has no raw newline) unless
// it holds a newline or starts with a quote: then it is written JSON-quoted, and read back as such.
const encode = (r: string): string => (r.includes('\n') || r.startsWith('"') ? JSON.stringify(r) : r);
const NEWLINE = Buffer.from('\n');
const QUOTE = 0x22;

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
    const lines = text.split('\n');
    // Every write ends with a newline: a last piece without one was cut short.
    if (lines.at(-1) !== '') torn++;
    lines.pop();
    for (const line of lines) {
      if (line === '') continue;
      if (!line.startsWith('"')) {
        records.push(line);
        continue;
      }
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

  /**
   * Writes records into the file (the kernel has them when this returns); sync() for the disk. Bytes
   * are written as they are, in one writev: re-encoding text costs more than everything else here.
   */
  write(records: readonly RawRecord[]): void {
    if (this.fd === null) throw new Error('spool is not open');
    if (records.length === 0) return;
    const parts: Buffer[] = [];
    let text = '';
    for (const r of records) {
      if (typeof r === 'string') {
        text += `${encode(r)}\n`;
        continue;
      }
      if (text !== '') {
        parts.push(Buffer.from(text));
        text = '';
      }
      if (r.indexOf(NEWLINE[0]) !== -1 || r[0] === QUOTE) parts.push(Buffer.from(`${encode(r.toString('utf8'))}\n`));
      else parts.push(r, NEWLINE);
    }
    if (text !== '') parts.push(Buffer.from(text));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const written = writevSync(this.fd, parts);
    if (written < total) {
      // A short write (disk full, a signal): the rest goes out piece by piece, or throws.
      const rest = Buffer.concat(parts).subarray(written);
      let off = 0;
      while (off < rest.length) off += writeSync(this.fd, rest, off);
    }
    this.pending += records.length;
  }

  /** Flushes what was written to the disk, off the main thread. */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.reject(new Error('spool is not open'));
    return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** write() and wait until the records are on disk. */
  append(records: readonly RawRecord[]): void {
    this.write(records);
    if (this.fd !== null && records.length > 0) fsyncSync(this.fd);
  }

  /**
   * Empties the spool once its records are committed. Not synced: a power cut that brings committed
   * records back only replays them, and dedupe stores each once.
   */
  clear(): void {
    if (this.fd === null) throw new Error('spool is not open');
    ftruncateSync(this.fd, 0);
    this.pending = 0;
  }

  /** clear() on the thread pool; nothing may be written to this spool until it resolves. */
  clearSoon(): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.reject(new Error('spool is not open'));
    this.pending = 0;
    return new Promise((resolve, reject) => ftruncate(fd, 0, (err) => (err ? reject(err) : resolve())));
  }

  get size(): number {
    return this.pending;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
