// The one way a test waits: for a state (polled) or an event (awaited), always with a deadline and a
// failure message that says what was awaited and what was seen last. Tests hold no other sleep.
import type { EventEmitter } from 'node:events';
import { inspect } from 'node:util';

export interface WaitOptions {
  /** What the test waits for, in words: it opens the failure message. */
  what: string;
  /**
   * A safety net for a hung test, never an assertion on speed: generous, so a loaded machine still
   * passes (default 30 s).
   */
  timeoutMs?: number;
  /** Pause between polls (default 10 ms, growing to 100 ms so a long wait does not busy the machine). */
  intervalMs?: number;
}

export interface PollOptions extends WaitOptions {
  /**
   * A probe error ends the wait at once (it is the test's failure), unless this says to keep polling,
   * e.g. "connection refused" while a server starts. The last error is then what was seen last.
   */
  retryOnError?: (error: unknown) => boolean;
}

export class WaitTimeout extends Error {
  constructor(what: string, timeoutMs: number, lastSeen: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`);
    this.name = 'WaitTimeout';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A state snapshot for the failure message: short, one line, whatever its type. */
export function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const text = typeof value === 'string' ? value : inspect(value, { depth: 4, breakLength: Infinity });
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than `undefined`, `null` or `false`, and returns that.
 * `{ ok, seen }` lets a probe report the state it saw when it is not done:
 * `probe: () => ({ ok: n >= 3, seen: n })`. A probe that throws ends the wait (see `retryOnError`).
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: PollOptions): Promise<Done<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let interval = options.intervalMs ?? 10;
  let lastSeen = 'nothing (the probe never finished)';
  for (;;) {
    try {
      const value = await probe();
      if (isProgress(value)) {
        if (value.ok) return value as Done<T>;
        lastSeen = describe(value.seen);
      } else if (value !== undefined && value !== null && value !== false) {
        return value as Done<T>;
      } else lastSeen = describe(value);
    } catch (error) {
      if (!options.retryOnError?.(error)) throw error;
      lastSeen = describe(error);
    }
    if (Date.now() >= deadline) throw new WaitTimeout(options.what, timeoutMs, lastSeen);
    await pause(Math.min(interval, Math.max(0, deadline - Date.now())));
    if (options.intervalMs === undefined) interval = Math.min(100, interval * 2);
  }
}

/** What a finished wait returns: the probe's value, less the "not yet" answers (unless that is all it gives). */
export type Done<T> = [Exclude<T, false | null | undefined | Progress>] extends [never]
  ? Exclude<T, false | null | undefined>
  : Exclude<T, false | null | undefined | Progress>;

/** A probe's answer that carries what it saw: `{ ok: false, seen }` keeps waiting and reports `seen`. */
export interface Progress {
  ok: boolean;
  seen: unknown;
}

function isProgress(value: unknown): value is Progress {
  return (
    typeof value === 'object' && value !== null && 'ok' in value && 'seen' in value && Object.keys(value).length === 2
  );
}

/** Awaits a promise with a deadline: the failure names what was awaited (and `seen()`, when given). */
export async function within<T>(promise: Promise<T>, options: WaitOptions & { seen?: () => unknown }): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new WaitTimeout(options.what, timeoutMs, options.seen ? describe(options.seen()) : 'it had not settled'));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits the next `event` from `emitter` (optionally one `accept` takes), with a deadline. */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'on' | 'off'>,
  event: string,
  options: WaitOptions & { accept?: (...args: A) => boolean },
): Promise<A> {
  const seen: unknown[] = [];
  let listener: ((...args: unknown[]) => void) | undefined;
  const got = new Promise<A>((resolve) => {
    listener = (...args: unknown[]) => {
      if (!options.accept || options.accept(...(args as A))) resolve(args as A);
      else seen.push(args.length === 1 ? args[0] : args);
    };
    emitter.on(event, listener);
  });
  return within(got, {
    ...options,
    seen: () => (seen.length > 0 ? { rejected: seen.slice(-5) } : `no "${event}" event`),
  }).finally(() => emitter.off(event, listener!));
}

/**
 * A gap a simulated producer or worker leaves on purpose (a steady flow of records, work that takes a
 * moment so callers overlap). Never a wait for a state: nothing may be asserted because it elapsed.
 */
export function pace(ms: number): Promise<void> {
  return pause(ms);
}
