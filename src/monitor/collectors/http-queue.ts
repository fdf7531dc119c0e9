// CPA's usage queue over HTTP (GET …/usage-queue?count=N, both route generations), through the CPA
// client, which stops at the first 401 (a bad key is never retried: CPA bans after five).
import type { CpaClient } from '../../cpa/client.ts';
import { SourceError, type UsageSource } from './types.ts';

const MAX_POP = 1000;

export class HttpQueueSource implements UsageSource {
  readonly kind = 'http' as const;
  readonly queueId: string;
  private readonly client: CpaClient;

  constructor(client: CpaClient, baseUrl: string) {
    this.client = client;
    // Same queue as RESP on that CPA: one lease covers both ways in.
    const u = new URL(baseUrl);
    this.queueId = `resp://${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}/usage`;
  }

  async pop(max: number): Promise<string[]> {
    const r = await this.client.popUsageQueue(Math.max(1, Math.min(max, MAX_POP)));
    if (!r.ok) {
      const kind =
        r.error.kind === 'unauthorized' || r.error.kind === 'breaker_open' || r.error.kind === 'forbidden'
          ? 'auth'
          : r.error.kind === 'network' || r.error.kind === 'timeout'
            ? 'network'
            : 'protocol';
      throw new SourceError(kind, r.error.message);
    }
    // Re-serialized: the collector spools and parses text, whichever way the records came.
    return r.value.map((rec) => JSON.stringify(rec));
  }

  async close(): Promise<void> {}
}
