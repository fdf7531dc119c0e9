// Starts the HTTP server and stops it gracefully: stop accepting, end SSE streams, tell the core to
// start nothing new (in-flight probes end at once, a token request already sent is read and saved),
// let in-flight requests get their answer (a sweep cut short answers 503), then close the service (and
// with it the store), all within the grace period, so nothing is left half-written.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { type Clock, systemClock } from '../domain/time.ts';
import { type AppDeps, createApp, type FleetApp } from './app.ts';
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
  monitorEvents?: AppDeps['monitorEvents'];
  version?: string;
  /** Install SIGTERM / SIGINT handlers that shut down gracefully (true for the CLI). */
  handleSignals?: boolean;
  /** Refresh every account this often (joins a refresh in progress); 0 or absent: never. */
  refreshIntervalSeconds?: number;
  /**
   * How long shutdown waits, in all, for in-flight requests and refreshes before cutting them (default
   * 8 s: inside the 10 s a container runtime allows between SIGTERM and SIGKILL).
   */
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
  /** Settles once the server has stopped (after close(), or a signal when handleSignals is set). */
  closed: Promise<void>;
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
    monitorEvents: opts.monitorEvents,
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

  let interval: NodeJS.Timeout | null = null;
  if (opts.refreshIntervalSeconds && opts.refreshIntervalSeconds > 0) {
    interval = setInterval(() => {
      const ticket = fleetApp.gate.refreshAll();
      ticket.done.catch((error: Error) =>
        log(`codex-fleet: scheduled refresh failed: ${error.message.split('\n')[0]}`),
      );
    }, opts.refreshIntervalSeconds * 1000);
    interval.unref();
  }

  let closing: Promise<void> | null = null;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const grace = opts.shutdownGraceMs ?? 8_000;
  const onSignal = (signal: string) => {
    if (closing) return log(`codex-fleet: ${signal} received, already shutting down`);
    log(`codex-fleet: ${signal} received, shutting down`);
    void close().then(() => {
      process.exitCode = 0;
    });
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');

  function close(): Promise<void> {
    closing ??= (async () => {
      // The handlers stay until the end: with none of ours left, a library's exit hook (signal-exit,
      // loaded by the file lock) re-raises the signal and the process dies mid-shutdown.
      if (interval) clearInterval(interval);
      // The core cuts what still runs at 3/4 of the grace, leaving the rest to answer and close.
      opts.service.beginShutdown(Math.floor(grace * 0.75));
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      fleetApp.close(); // ends SSE streams, which would otherwise hold server.close open
      server.closeIdleConnections();
      // Keep-alive connections become idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = Date.now() + grace;
      await withTimeout(stopped, grace);
      clearInterval(sweep);
      server.closeAllConnections();
      // Let refreshes in flight finish writing; past the deadline, service.close() must end them cleanly.
      await withTimeout(fleetApp.gate.drain(), Math.max(0, deadline - Date.now()));
      try {
        await opts.service.close();
      } finally {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        markClosed();
      }
    })();
    return closing;
  }
  if (opts.handleSignals) {
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  }
  return { url, host: opts.host, port, adminKeySource: admin.source, fleetApp, close, closed };
}
