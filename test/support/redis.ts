// A real, throwaway redis-server for tests: loopback, free port, no persistence, temp dir, stopped in
// teardown. When redis-server is absent the caller gets a loud skip reason instead (a failure in CI).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { hasCommand } from '../setup/system-packages.ts';
import { freePort } from './cpa.ts';
import { unavailable } from './real-server.ts';
import { waitFor } from './wait.ts';

export interface RedisServer {
  port: number;
  /** A plain client for the test itself (push records, inspect the queue). */
  client(): Redis;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-redis-'));
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout?.on('data', (d) => {
    log += d;
  });
  const clients: Redis[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect(false);
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${log.slice(-300)}`);
        return log.includes('Ready to accept connections') || { ok: false, seen: log.slice(-300) || 'no output yet' };
      },
      { what: 'redis-server to accept connections', timeoutMs: 15_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    client() {
      const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false });
      clients.push(c);
      return c;
    },
    stop,
  };
}

/** Starts redis-server, or returns why not, printed loudly so a skip is never silent (in CI: throws). */
export async function tryStartRedis(): Promise<RedisServer | { skip: string }> {
  if (!hasCommand('redis-server')) {
    return {
      skip: unavailable(
        'redis-server',
        'not installed (apt-get install redis-server, or run npm test which installs it)',
      ),
    };
  }
  try {
    return await startRedis();
  } catch (error) {
    return { skip: unavailable('redis-server', (error as Error).message) };
  }
}
