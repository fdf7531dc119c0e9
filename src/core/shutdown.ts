// The core's shutdown in two stages, as signals the sweep, the token manager and the probes listen to:
// `stop` (start no new work: no new probe, no new token request) and, at the grace deadline, `cutoff`
// (abort what is still in flight). A token request already sent is NOT cut at `stop`: upstream spends
// the old refresh token on receipt, so the answer must be read and saved, or the pair is burned.
// Work is tracked so the store is closed only after every sweep has settled.

/** A sweep or request refused or ended because the process is shutting down (answered 503). */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
  constructor(message = 'codex-fleet is shutting down; try again once it is back') {
    super(message);
  }
}

/** After `cutoff`, how long work may take to unwind (file and store writes only; no network left). */
const UNWIND_MS = 1_000;

/** Every open core's shutdown, so a CLI's Ctrl-C can stop whichever sweep runs. */
const live = new Set<Shutdown>();

/** Begins the shutdown of every core open in this process (the CLI's SIGINT / SIGTERM). */
export function shutdownAll(graceMs: number): void {
  for (const s of live) s.begin(graceMs);
}

export class Shutdown {
  constructor() {
    live.add(this);
  }

  readonly #stop = new AbortController();
  readonly #cutoff = new AbortController();
  readonly #work = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | null = null;

  /** Aborted when shutdown begins: start nothing new. */
  get stop(): AbortSignal {
    return this.#stop.signal;
  }

  /** Aborted at the grace deadline: cut what is still in flight. */
  get cutoff(): AbortSignal {
    return this.#cutoff.signal;
  }

  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Throws ShutdownError once shutdown has begun. */
  check(): void {
    if (this.stopping) throw new ShutdownError();
  }

  /** Runs `work` unless shutdown has begun; close() waits for it. */
  track<T>(work: () => Promise<T>): Promise<T> {
    this.check();
    const p = work();
    this.#work.add(p);
    const forget = () => this.#work.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Begins the shutdown (idempotent): stop now, cut in-flight work after graceMs. */
  begin(graceMs: number): void {
    if (this.stopping) return;
    this.#stop.abort(new ShutdownError());
    this.#timer = setTimeout(() => this.#cutoff.abort(new ShutdownError()), Math.max(0, graceMs));
    this.#timer.unref();
  }

  /** Resolves once every tracked piece of work has settled, or a bounded time after the cutoff. */
  async settle(): Promise<void> {
    const settled = Promise.allSettled([...this.#work]).then(() => {});
    if (this.#work.size > 0 && !this.cutoff.aborted) {
      await Promise.race([settled, new Promise((resolve) => this.cutoff.addEventListener('abort', resolve))]);
    }
    if (this.#work.size > 0) await Promise.race([settled, delay(UNWIND_MS)]);
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.cutoff.aborted) this.#cutoff.abort(new ShutdownError());
    live.delete(this);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A sleep that ends early when `signal` aborts (retry backoff must not hold a shutdown). */
export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}
