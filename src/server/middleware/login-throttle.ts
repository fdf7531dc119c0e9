// Login lockout per client address with exponential backoff. One address guessing keys slows only
// itself: another address (the operator's browser) can still log in. The address is the TCP peer
// (the server has no trusted-proxy setting, so X-Forwarded-For is never believed).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Clock } from '../../domain/time.ts';

/** Wrong keys an address may try before it has to wait. */
const FREE_FAILURES = 5;
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 15 * 60 * 1000;
/** An address with no wrong key for this long starts again from zero. */
const FORGET_AFTER_MS = 60 * 60 * 1000;
/** Bounds memory against many addresses (IPv6 gives an attacker plenty). */
const MAX_ADDRESSES = 10_000;

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Milliseconds this address must still wait, 0 when it may try. */
  waitMs(address: string): number {
    const e = this.#live(address);
    return e ? Math.max(0, e.lockedUntil - this.#clock()) : 0;
  }

  /** A wrong key: after FREE_FAILURES, each one doubles the wait (1 s, 2 s, 4 s, … 15 min). */
  failed(address: string): void {
    const now = this.#clock();
    const e = this.#live(address) ?? { failures: 0, lockedUntil: 0, lastFailureAt: now };
    e.failures += 1;
    e.lastFailureAt = now;
    const over = e.failures - FREE_FAILURES;
    if (over >= 0) e.lockedUntil = now + Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(over, 30));
    this.#entries.delete(address); // re-insert: the map's order is oldest failure first
    this.#entries.set(address, e);
    this.#bound(now);
  }

  succeeded(address: string): void {
    this.#entries.delete(address);
  }

  #live(address: string): Entry | null {
    const e = this.#entries.get(address);
    if (!e) return null;
    if (this.#clock() - e.lastFailureAt > FORGET_AFTER_MS && e.lockedUntil <= this.#clock()) {
      this.#entries.delete(address);
      return null;
    }
    return e;
  }

  #bound(now: number): void {
    if (this.#entries.size <= MAX_ADDRESSES) return;
    for (const [a, e] of this.#entries) {
      if (now - e.lastFailureAt > FORGET_AFTER_MS && e.lockedUntil <= now) this.#entries.delete(a);
    }
    while (this.#entries.size > MAX_ADDRESSES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

/** The TCP peer's address ('::ffff:127.0.0.1' and '127.0.0.1' are one client), or 'unknown' off a socket. */
export function clientAddress(c: Context): string {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    address = undefined; // app.request() in tests: no socket
  }
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
