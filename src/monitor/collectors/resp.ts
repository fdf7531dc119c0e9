// CPA's usage queue over RESP (the Redis protocol on CPA's port). CPA only knows AUTH, LPOP, RPOP and
// SUBSCRIBE, so ioredis is told to send nothing else: no ready check (INFO), no CLIENT SETINFO or
// SETNAME, no SELECT (db 0), RESP2 (no HELLO). A rejected key stops the client for good: five
// failed AUTHs ban the IP for 30 minutes.
import { Redis } from 'ioredis';
import { type RawRecord, SourceError, type UsageSource } from './types.ts';

export interface RespSourceOptions {
  host: string;
  port: number;
  /** CPA management key (sent with AUTH); omit for a password-less Redis. */
  key?: string;
  /** Queue / channel name; CPA uses "usage". */
  queue?: string;
  mode?: 'lpop' | 'subscribe';
  /** subscribe mode: messages held in memory before the collector takes them. */
  maxBuffer?: number;
  connectTimeoutMs?: number;
}

const AUTH_ERROR = /WRONGPASS|invalid password|invalid.*key|NOAUTH|unauthori[sz]ed|auth.*(fail|denied)|denied/i;

export class RespSource implements UsageSource {
  readonly kind = 'resp' as const;
  readonly queueId: string;
  /** Messages dropped because the buffer was full (subscribe mode only). */
  dropped = 0;
  private readonly client: Redis;
  private readonly queue: string;
  private readonly mode: 'lpop' | 'subscribe';
  private readonly maxBuffer: number;
  private buffer: string[] = [];
  private authError: string | null = null;
  private subscribed: Promise<void> | null = null;

  constructor(o: RespSourceOptions) {
    this.queue = o.queue ?? 'usage';
    this.mode = o.mode ?? 'lpop';
    this.maxBuffer = o.maxBuffer ?? 100_000;
    this.queueId = `resp://${o.host}:${o.port}/${this.queue}`;
    this.client = new Redis({
      host: o.host,
      port: o.port,
      password: o.key,
      db: 0,
      protocol: 2,
      enableReadyCheck: false,
      disableClientInfo: true,
      lazyConnect: true,
      autoResubscribe: true,
      maxRetriesPerRequest: 1,
      connectTimeout: o.connectTimeoutMs ?? 5000,
      // Reconnect on network trouble, never after a rejected key.
      retryStrategy: (times) => (this.authError ? null : Math.min(100 * 2 ** Math.min(times, 6), 5000)),
      reconnectOnError: () => false,
    });
    this.client.on('error', (err: Error) => {
      if (AUTH_ERROR.test(err.message)) this.authError = 'CPA rejected the management key over RESP (AUTH)';
    });
    this.client.on('message', (_channel: string, message: string) => {
      if (this.buffer.length >= this.maxBuffer) this.dropped++;
      else this.buffer.push(message);
    });
  }

  private async connect(): Promise<void> {
    if (this.authError)
      throw new SourceError('auth', `${this.authError}; fix the key, nothing is retried (5 failures ban the IP)`);
    if (this.client.status === 'wait') {
      try {
        await this.client.connect();
      } catch (error) {
        throw this.wrap(error);
      }
    }
  }

  private wrap(error: unknown): SourceError {
    const msg = (error as Error).message ?? String(error);
    if (AUTH_ERROR.test(msg) || this.authError) {
      this.authError ??= 'CPA rejected the management key over RESP (AUTH)';
      this.client.disconnect(false);
      return new SourceError('auth', `${this.authError}; fix the key, nothing is retried (5 failures ban the IP)`);
    }
    return new SourceError('network', `RESP ${this.queueId}: ${msg.split('\n')[0]}`);
  }

  async pop(max: number): Promise<RawRecord[]> {
    await this.connect();
    if (this.mode === 'subscribe') {
      this.subscribed ??= this.client.subscribe(this.queue).then(() => undefined);
      try {
        await this.subscribed;
      } catch (error) {
        this.subscribed = null;
        throw this.wrap(error);
      }
      return this.buffer.splice(0, max);
    }
    try {
      // As bytes: the spool writes them unchanged, and each is decoded once, to be parsed.
      const out = await this.client.lpopBuffer(this.queue, max);
      if (out == null) return [];
      return Array.isArray(out) ? out : [out];
    } catch (error) {
      throw this.wrap(error);
    }
  }

  async close(): Promise<void> {
    this.client.disconnect(false);
  }
}
