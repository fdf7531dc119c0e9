// Heap limits for the long-running collector. V8 sizes its young generation for throughput (up to
// 3 × 32 MB semi-spaces on 64-bit) and these sizes can only be set when a process starts, so
// `monitor run` and `serve --collect` (and `serve --demo`, which collects the simulated CPA) relaunch
// themselves once with bounded limits; the parent only forwards signals and the exit code. The child names the parent as the lease holder and dies with it, so a supervisor that
// SIGKILLs what it started and restarts at once gets a fast takeover (same host, process gone).
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';

/** Enough for two batches of 10,000 records (one committing, one gathered) with the collector's caches; a semi-space of 8 MB keeps RSS flat (4 MB: ~10% more CPU in GC, the same peak). */
export const COLLECTOR_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=160'];
const CHILD_ENV = 'CODEX_FLEET_COLLECTOR_PARENT';

/** True in the relaunched collector process. */
export function isRelaunchedCollector(): boolean {
  return process.env[CHILD_ENV] !== undefined;
}

/** The lease holder for this process: the parent's pid when relaunched (that is what supervisors see). */
export function collectorHolder(): string {
  return `${hostname()}:${process.env[CHILD_ENV] ?? process.pid}`;
}

/** True for the commands that start a collector: `monitor run`, `serve --collect …` and `serve --demo`. */
export function startsCollector(argv: readonly string[]): boolean {
  if (argv[2] === 'monitor') return argv[3] === 'run';
  if (argv[2] !== 'serve') return false;
  return argv.some((a) => a === '--collect' || a.startsWith('--collect=') || a === '--demo');
}

/**
 * A collecting command started without heap limits: the caller should relaunch instead of running
 * here. Limits the operator chose (Node flags or NODE_OPTIONS) are kept as they are.
 */
export function needsHeapLimits(
  argv: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (isRelaunchedCollector() || !startsCollector(argv)) return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  const own = [...execArgv, ...nodeOptions.split(/\s+/)];
  return !own.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--max-old-space-size'));
}

/** Runs this same command in a child with COLLECTOR_NODE_FLAGS; resolves with its exit code. */
export function relaunchWithHeapLimits(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...COLLECTOR_NODE_FLAGS, ...argv.slice(1)], {
      // fd 3 is an IPC channel: it closes when this process dies, however it dies.
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [CHILD_ENV]: String(process.pid) },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward(s));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 1)));
  });
}

// Who must finish something before the child dies (a collector with an LPOP on the wire).
const halters = new Set<(die: () => void) => void>();

/** Registers a collector to be halted (see Collector.haltSoon) when the parent dies; returns an unregister. */
export function onParentGone(halt: (die: () => void) => void): () => void {
  halters.add(halt);
  return () => halters.delete(halt);
}

/** In the relaunched child: when the parent is gone (even by SIGKILL), go with it at once. */
export function dieWithParent(): void {
  if (!isRelaunchedCollector() || typeof process.send !== 'function') return;
  process.on('disconnect', () => {
    // Dying like a SIGKILL loses nothing once every popped record is in the spool.
    let waiting = halters.size;
    const die = () => process.kill(process.pid, 'SIGKILL');
    if (waiting === 0) {
      die();
      return;
    }
    for (const halt of halters)
      halt(() => {
        if (--waiting === 0) die();
      });
  });
  // The channel must not keep the child alive once its work is done.
  process.channel?.unref();
}
