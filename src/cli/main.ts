#!/usr/bin/env node
// The CLI's entry (run from the sources in development, built to dist/cli.js): only Node built-ins load
// before the command is known, so `--version` costs no library and each command loads only its own module.
import module from 'node:module';
import type { PlainCommand } from './plain-args.ts';

// From the loaded built-in: an ESM import of node:fs loads fs/promises, the fs streams and the watchers (src/runtime/fs.ts).
const { readFileSync } = process.getBuiltinModule('node:fs');

// The installed bin turns the compile cache on before loading this file; from the sources it starts here.
module.enableCompileCache?.();

// A closed pipe (`report --json | head -c 10`) is the reader saying it has enough: stop quietly.
function onWriteError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
}

// The handler goes on each stream when something first uses it, not here: creating process.stdout loads Node's
// stream classes, which a report written with fs.writeSync (src/cli/stdout.ts) never needs.
for (const name of ['stdout', 'stderr'] as const) {
  const original = Object.getOwnPropertyDescriptor(process, name);
  const get = original?.get;
  if (!original?.configurable || !get) {
    process[name].on('error', onWriteError);
    continue;
  }
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    ...original,
    get() {
      if (!stream) {
        stream = get.call(process) as NodeJS.WriteStream;
        stream.on('error', onWriteError);
      }
      return stream;
    },
  });
}

/** package.json is ../../ from src/cli/main.ts and ../ from dist/cli.js. */
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'codex-fleet' && pkg.version) return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

/**
 * Ctrl-C (or SIGTERM) during a sweep: no new probe or token request starts, a token request already
 * sent is read and saved (else its refresh token would be spent for nothing), the store is closed by
 * the command as usual, and the exit code is 130. A second Ctrl-C quits at once.
 */
async function interruptSweepsOnSignal(): Promise<void> {
  const { shutdownAll } = await import('../core/shutdown.ts');
  const GRACE_MS = 6_000;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(
      `codex-fleet: interrupted; finishing a token refresh in flight (at most ${GRACE_MS / 1000} s, Ctrl-C again to quit now)`,
    );
    shutdownAll(GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    if (interrupted) process.exitCode = 130;
  });
}

/** Commands that read a plain command line without commander (src/cli/plain-args.ts). */
const PLAIN_COMMANDS: Record<string, () => Promise<PlainCommand>> = {
  report: () => import('./commands/report.ts'),
};

/** Runs a plain command line of a PLAIN_COMMANDS command; false when commander has to parse it. */
async function runPlainCommandLine(argv: readonly string[]): Promise<boolean> {
  const load = PLAIN_COMMANDS[argv[2]];
  if (!load) return false;
  const [command, { parsePlainArgs }] = await Promise.all([load(), import('./plain-args.ts')]);
  const options = parsePlainArgs(argv.slice(3), command.OPTIONS);
  if (!options) return false;
  await command.action(options);
  return true;
}

const version = packageVersion();
const first = process.argv[2];
if (first === '--version' || first === '-V') {
  console.log(version);
} else {
  try {
    if (first === 'monitor' || first === 'serve') {
      // The collector (monitor run, serve --collect) runs with bounded heap limits, which only a fresh process can take.
      const heap = await import('../monitor/heap.ts');
      if (heap.needsHeapLimits(process.argv)) process.exit(await heap.relaunchWithHeapLimits(process.argv));
      heap.dieWithParent();
    }
    // serve, monitor and sim handle their own signals; every other command stops its sweep cleanly.
    if (first !== 'serve' && first !== 'monitor' && first !== 'sim') await interruptSweepsOnSignal();
    if (!(await runPlainCommandLine(process.argv))) {
      const { buildProgram } = await import('./program.ts');
      const program = await buildProgram(process.argv, { version });
      await program.parseAsync(process.argv);
    }
  } catch (error) {
    console.error(`codex-fleet: ${(error as Error).message}`);
    process.exitCode = 1;
  }
  // A one-shot command (report, quota, …) is done once nothing is left for the event loop (no server, timer,
  // pending write or file operation: `serve` and `monitor run` always have one). Exit now instead of letting
  // the runtime first wait for V8's background GC work, which cost the cached report ~10 ms after its last
  // line; the exit code is the command's.
  if (process.getActiveResourcesInfo().length === 0) {
    module.flushCompileCache?.(); // what a normal exit would write, so the next start finds it
    process.exit();
  }
}
