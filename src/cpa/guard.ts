// Process-wide ban protection per CPA server. Several CpaClient objects may talk to one server (an
// inspection run and an action executor, say). So the in-flight cap is shared per server URL, and
// so is the breaker per (URL, key). A key rejected once is then not sent again by any of them.

import pLimit, { type LimitFunction } from 'p-limit';
import { nodeCrypto } from '../runtime/crypto.ts';

const limiters = new Map<string, LimitFunction>();
const breakers = new Map<string, string>();

/** The shared in-flight limiter of one server; the first caller's cap wins. */
export function serverLimiter(baseUrl: string, maxInFlight: number): LimitFunction {
  let limit = limiters.get(baseUrl);
  if (!limit) {
    limit = pLimit(Math.max(1, Math.floor(maxInFlight)));
    limiters.set(baseUrl, limit);
  }
  return limit;
}

/** Identifies a key without holding it. */
export function keyFingerprint(key: string): string {
  return nodeCrypto().createHash('sha256').update(key).digest('hex').slice(0, 16);
}

const id = (baseUrl: string, key: string) => `${baseUrl}|${keyFingerprint(key)}`;

export function sharedBreaker(baseUrl: string, key: string): string | null {
  return breakers.get(id(baseUrl, key)) ?? null;
}

export function openSharedBreaker(baseUrl: string, key: string, reason: string): void {
  breakers.set(id(baseUrl, key), reason);
}

/** Entering a key again (the operator fixed CPA's side) closes the breaker for it. */
export function closeSharedBreaker(baseUrl: string, key: string): void {
  breakers.delete(id(baseUrl, key));
}
