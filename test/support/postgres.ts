// A real, throwaway PostgreSQL server for tests: initdb into a temp dir, start on a free loopback port
// with trust auth, hand out one fresh database per suite, stop and delete everything in teardown.
// Runs as the `postgres` OS user when we are root (postgres refuses to run as root).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPostgresBin } from '../setup/system-packages.ts';
import { unavailable } from './real-server.ts';
import { waitFor } from './wait.ts';

export interface PostgresServer {
  /** URL of the server's `postgres` database. */
  url: string;
  port: number;
  /** Creates a new empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function osUser(name: string): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable(): string | null {
  if (!findPostgresBin()) return 'PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)';
  if (process.getuid?.() === 0 && !osUser('postgres')) return 'running as root but there is no `postgres` OS user';
  return null;
}

/** Starts a server, or returns null after printing loudly why PostgreSQL tests are skipped (in CI: throws). */
export async function startPostgres(): Promise<PostgresServer | null> {
  const why = postgresUnavailable();
  if (why) {
    unavailable('PostgreSQL', why);
    return null;
  }
  const bin = findPostgresBin()!;
  const dir = mkdtempSync(join(tmpdir(), 'codex-fleet-pg-'));
  const asUser = process.getuid?.() === 0 ? osUser('postgres')! : null;
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const data = join(dir, 'data');
  const ids = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
  execFileSync(
    `${bin}/initdb`,
    ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    `${bin}/postgres`,
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
        const client = new pg.Client({ connectionString: url });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      {
        what: `PostgreSQL to answer on 127.0.0.1:${port}`,
        timeoutMs: 60_000,
        intervalMs: 100,
        retryOnError: () => child.exitCode === null, // refused while it starts; an exit is final
      },
    );
  } catch (error) {
    cleanup();
    throw new Error(`PostgreSQL test server did not start on 127.0.0.1:${port}: ${(error as Error).message}\n${log}`);
  }

  let n = 0;
  return {
    url,
    port,
    async createDatabase(prefix = 'test') {
      n++;
      const name = `${prefix.replace(/\W/g, '_').toLowerCase()}_${process.pid}_${n}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      process.removeListener('exit', cleanup);
      if (child.exitCode === null) {
        child.kill('SIGINT'); // fast shutdown: disconnects clients, no checkpoint wait beyond need
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
