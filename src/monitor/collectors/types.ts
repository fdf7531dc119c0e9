// One interface for every place usage records come from (CPA RESP queue, CPA HTTP queue, a file).

export const SOURCE_ERROR_KINDS = ['auth', 'network', 'protocol', 'config'] as const;
export type SourceErrorKind = (typeof SOURCE_ERROR_KINDS)[number];

/** A failed pop. `auth` is final: CPA bans an IP after 5 bad keys, so nobody retries it. */
export class SourceError extends Error {
  override name = 'SourceError';
  readonly kind: SourceErrorKind;
  constructor(kind: SourceErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** One popped record as it came: JSON text, or its bytes (the RESP source skips decoding what the spool stores as is). */
export type RawRecord = string | Buffer;

export interface UsageSource {
  readonly kind: 'resp' | 'http' | 'jsonl';
  /** Names the queue (never the key): collectors on the same queue share one lease. */
  readonly queueId: string;
  /** Pops up to `max` raw records (JSON text), oldest first; [] when the queue is empty. Destructive. */
  pop(max: number): Promise<RawRecord[]>;
  close(): Promise<void>;
}
