// Starts the HTTP server and stops it gracefully: stop accepting, end SSE streams, let in-flight
// requests and refreshes finish, then close the service (and with it the store), so nothing is left
// half-written.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { type Clock, systemClock } from '../domain/time.ts';
import { createApp, type FleetApp } from './app.ts';
import { isLoopbackHost, resolveAdminKey } from './middleware/admin-key.ts';
import type { FleetService } from './service.ts';

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  service: FleetService;
  /** Where a generated admin key is stored (mode 0600). */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  monitor?: Hono;
  version?: string;
  /** Install SIGTERM / SIGINT handlers that shut down gracefully (true for the CLI). */
  handleSignals?: boolean;
  /** How long shutdown waits for in-flight work before cutting connections. */
  shutdownGraceMs?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  adminKeySource: 'env' | 'file' | 'generated' | 'none';
  fleetApp: FleetApp;
  /** Graceful stop; safe to call more than once. */
  close(): Promise<void>;
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const clock = opts.clock ?? systemClock;
  // Throws AdminKeyError (with the reason and the fix) before anything listens.
  const admin = resolveAdminKey({ host: opts.host, dataDir: opts.dataDir, env: opts.env });
  if (admin.source === 'generated') {
    // Printed once, here; afterwards it is only in the 0600 file.
    log(`codex-fleet: generated an admin key (stored in ${admin.file}, mode 0600): ${admin.key}`);
  }
  const fleetApp = createApp({
    service: opts.service,
    clock,
    config: { adminKey: admin.key, version: opts.version },
    monitor: opts.monitor,
    log,
  });
  const server = createAdaptorServer({ fetch: fleetApp.app.fetch, hostname: opts.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${shownHost}:${port}`;
  if (!isLoopbackHost(opts.host)) log(`codex-fleet: listening on ${url} (admin key required)`);

  let closing: Promise<void> | null = null;
  const grace = opts.shutdownGraceMs ?? 10_000;
  const onSignal = (signal: string) => {
    log(`codex-fleet: ${signal} received, shutting down`);
    void close().then(() => {
      process.exitCode = 0;
    });
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');

  function close(): Promise<void> {
    closing ??= (async () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      fleetApp.close(); // ends SSE streams, which would otherwise hold server.close open
      server.closeIdleConnections();
      await withTimeout(stopped, grace);
      server.closeAllConnections();
      await withTimeout(fleetApp.gate.drain(), grace);
      await opts.service.close();
    })();
    return closing;
  }
  if (opts.handleSignals) {
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  }
  return { url, host: opts.host, port, adminKeySource: admin.source, fleetApp, close };
}
