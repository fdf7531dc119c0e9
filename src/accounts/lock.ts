// Cross-process locks around a read-modify-write of an auth file, plus an in-process mutex per file.
//
// Codex CLI auth.json: the real CLI (0.169.0, seen with `strace -f -e trace=open,flock`) takes
// flock(LOCK_EX) on `<CODEX_HOME>/auth.lock` (blocking), then flock(LOCK_EX|LOCK_NB) on
// `auth.json.lock` (created 0600), re-reads auth.json, writes `.auth-XXXXXX` (0600), fsyncs and renames.
// Its token POST happens before it takes the locks. We take the SAME two flocks in the same order and
// hold them across re-read, token request and write, so a running CLI blocks on auth.lock until our
// new pair is on disk. Node has no flock(2), so a small `flock(1)` (util-linux) chain holds them:
// it prints "locked" once both are held and exits when our stdin closes, which also happens when
// this process dies, so the kernel releases the locks and nothing goes stale.
//
// Other formats (CPA, codex-quota, multi-auth): no other writer takes any lock, so we use
// proper-lockfile (a mkdir lock, portable, no extra binary) on a dot-file beside the auth file.
// A lock left by a killed process is taken over once it is older than STALE_MS.
import type { ChildProcess } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import type { AuthFileFormat } from '../domain/account.ts';
import { fsPromises } from '../runtime/fs.ts';

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const STALE_MS = 5_000;

export class LockError extends Error {
  override name = 'LockError';
}

export interface LockOptions {
  timeoutMs?: number;
}

type Release = () => Promise<void>;

// In-process: one holder per file at a time, waiters queue in order.
const tails = new Map<string, Promise<void>>();

async function inProcessLock(key: string): Promise<() => void> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => {
    release = r;
  });
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  await previous;
  return () => {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  };
}

/** The lock files the Codex CLI uses for an auth.json, in the order it takes them. */
export function codexCliLockPaths(authPath: string): string[] {
  const dir = dirname(authPath);
  return basename(authPath) === 'auth.json' ? [join(dir, 'auth.lock'), `${authPath}.lock`] : [`${authPath}.lock`];
}

async function ensureLockFile(path: string, mode: number): Promise<void> {
  // Create it as the CLI does (auth.json.lock is 0600) before flock(1) would create it 0644.
  const handle = await fsPromises().open(path, 'a', mode);
  await handle.close();
}

async function acquireFlock(authPath: string, timeoutMs: number): Promise<Release> {
  const paths = codexCliLockPaths(authPath);
  for (const p of paths) await ensureLockFile(p, p.endsWith('auth.lock') ? 0o644 : 0o600);
  const seconds = String(Math.max(0.001, timeoutMs / 1000));
  const args: string[] = [];
  for (const p of paths) args.push('flock', '--exclusive', '--timeout', seconds, '--conflict-exit-code', '75', p);
  args.push('sh', '-c', 'echo locked; exec cat >/dev/null');
  const [cmd, ...rest] = args;
  // child_process and proper-lockfile load only when a lock is taken: every read-only command imports
  // this module (through the token manager), and proper-lockfile's graceful-fs alone cost ~10 ms at start.
  const { spawn } = await import('node:child_process');
  const child: ChildProcess = spawn(cmd, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolveLocked, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolveLocked();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new LockError(
          e.code === 'ENOENT'
            ? 'flock(1) from util-linux is needed to lock a Codex CLI auth.json the way the CLI does; install util-linux'
            : `cannot start flock(1): ${e.message}`,
        ),
      );
    });
    child.on('exit', (code) => {
      if (code === 75) reject(new LockError(`${authPath}: still locked by another process after ${timeoutMs} ms`));
      else reject(new LockError(`${authPath}: flock(1) exited with ${code} before locking (${err.trim()})`));
    });
  });
  child.stdout?.removeAllListeners('data');
  // A holder that dies on its own means the locks are gone: nothing to do but note it on release.
  return async () => {
    if (child.exitCode != null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin?.end();
    await exited;
  };
}

async function acquireLockfile(authPath: string, timeoutMs: number): Promise<Release> {
  const lockfilePath = join(dirname(authPath), `.${basename(authPath)}.fleet-lock`);
  const deadline = Date.now() + timeoutMs;
  const { default: lockfile } = await import('proper-lockfile');
  for (;;) {
    try {
      const release = await lockfile.lock(authPath, {
        realpath: false,
        lockfilePath,
        stale: STALE_MS,
        // A compromised lock (e.g. the machine slept past STALE_MS) is reported on release, not thrown
        // from a timer where it would crash the process.
        onCompromised: () => {},
      });
      return async () => {
        await release().catch(() => {});
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw error; // the caller says "not writable"
      if (code !== 'ELOCKED') {
        throw new LockError(`${authPath}: cannot create lock ${lockfilePath} (${(error as Error).message})`);
      }
      if (Date.now() >= deadline) {
        throw new LockError(`${authPath}: still locked by another process after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}

/** Runs fn while holding this file's in-process and cross-process locks. */
export async function withFileLock<T>(
  authPath: string,
  format: AuthFileFormat,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  // Lock the real file: a symlink in the account dir and the Codex CLI's own path share one lock.
  const path = await fsPromises()
    .realpath(authPath)
    .catch(() => resolve(authPath));
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const releaseLocal = await inProcessLock(path);
  try {
    const release =
      format === 'codex-cli' ? await acquireFlock(path, timeoutMs) : await acquireLockfile(path, timeoutMs);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    releaseLocal();
  }
}

/** In-process single-flight: concurrent callers with the same key share one running promise. */
export function createSingleFlight<T>() {
  const running = new Map<string, Promise<T>>();
  return (key: string, fn: () => Promise<T>): Promise<T> => {
    const existing = running.get(key);
    if (existing) return existing;
    const p = fn().finally(() => running.delete(key));
    running.set(key, p);
    return p;
  };
}
