// Builds the HTTP app from its dependencies, so tests and `serve` make the same thing.
import type { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ZodError } from 'zod';
import { ShutdownError } from '../core/shutdown.ts';
import type { Clock } from '../domain/time.ts';
import { EventHub } from './event-hub.ts';
import { adminGuard } from './middleware/admin-key.ts';
import { crossSiteGuard } from './middleware/cross-site.ts';
import { loopbackHostGuard } from './middleware/host-check.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { RefreshGate } from './refresh-gate.ts';
import { accountRoutes } from './routes/accounts.ts';
import { actionRoutes } from './routes/actions.ts';
import { authFileRoutes } from './routes/auth-files.ts';
import { type AppEnv, BadRequest, formatIssues, type RouteDeps } from './routes/context.ts';
import { doctorRoutes } from './routes/doctor.ts';
import { inspectionRoutes } from './routes/inspections.ts';
import { loginRoutes } from './routes/login.ts';
import { monitorRoutes } from './routes/monitor.ts';
import { reportRoutes } from './routes/reports.ts';
import { seriesRoutes } from './routes/series.ts';
import { settingsRoutes } from './routes/settings.ts';
import { systemRoutes } from './routes/system.ts';
import { loadWebAssets, type WebAssets, webRoutes } from './routes/web.ts';
import { FleetError, type FleetService } from './service.ts';
import { SessionStore } from './sessions.ts';

export interface AppConfig {
  /** null: no admin key (loopback only; writes still need the CSRF token). */
  adminKey: string | null;
  version?: string;
  /** Max request body in bytes. */
  maxBodyBytes?: number;
}

export interface AppDeps {
  service: FleetService;
  clock: Clock;
  config: AppConfig;
  /** The monitor room's routes, mounted under /api/monitor (default: built from service.monitor). */
  monitor?: Hono;
  /** The monitor's emitter ('events' after each committed batch): becomes throttled 'monitor' SSE notices. */
  monitorEvents?: Pick<EventEmitter, 'on' | 'off'>;
  assets?: WebAssets;
  /** Where unexpected errors are reported (never with request bodies). */
  log?: (line: string) => void;
}

export interface FleetApp {
  app: Hono<AppEnv>;
  hub: EventHub;
  gate: RefreshGate;
  /** Closes every SSE stream and stops listening to the service. */
  close(): void;
}

const STATUS_BY_CODE = { not_found: 404, conflict: 409, invalid: 400 } as const;

export function createApp(deps: AppDeps): FleetApp {
  const { service, clock, config } = deps;
  const log = deps.log ?? ((line: string) => console.error(line));
  const assets = deps.assets ?? loadWebAssets();
  const hub = new EventHub(service);
  const mount = service.monitor;
  const monitor =
    deps.monitor ?? (mount ? monitorRoutes({ monitor: mount.service, collector: mount.collector }) : null);
  const monitorEvents = deps.monitorEvents ?? service.monitor?.events;
  const stopMonitorNotices = monitorEvents ? forwardMonitorEvents(monitorEvents, hub, clock) : () => {};
  const gate = new RefreshGate(service, clock);
  const sessions = new SessionStore(clock);
  const routeDeps: RouteDeps = { service, gate, hub, sessions, clock, adminKey: config.adminKey };

  const app = new Hono<AppEnv>();
  app.use(securityHeaders({ scriptHashes: assets.scriptHashes }));
  if (config.adminKey === null) app.use(loopbackHostGuard());
  app.use(
    bodyLimit({
      maxSize: config.maxBodyBytes ?? 256 * 1024,
      onError: (c) => c.json({ error: 'request body too large' }, 413),
    }),
  );
  app.use(crossSiteGuard());
  app.use(adminGuard({ adminKey: config.adminKey, sessions }));

  app.route('/', systemRoutes({ ...routeDeps, version: config.version ?? '0.1.0', startedAt: clock() }));
  app.route('/', loginRoutes(routeDeps));
  app.route('/', accountRoutes(routeDeps));
  app.route('/', reportRoutes(routeDeps));
  app.route('/', seriesRoutes(routeDeps));
  app.route('/', doctorRoutes(routeDeps));
  app.route('/', inspectionRoutes(routeDeps));
  app.route('/', actionRoutes(routeDeps));
  app.route('/', settingsRoutes(routeDeps));
  app.route('/', authFileRoutes(routeDeps));
  if (monitor) app.route('/api/monitor', monitor);
  app.route('/', webRoutes(routeDeps, assets));

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    if (error instanceof ZodError) return c.json({ error: `invalid input: ${formatIssues(error)}` }, 400);
    if (error instanceof FleetError) return c.json({ error: error.message }, STATUS_BY_CODE[error.code]);
    // A sweep cut short by SIGTERM: an answer, not a dropped connection.
    if (error instanceof ShutdownError) return c.json({ error: error.message }, 503, { 'retry-after': '10' });
    // Only the error's name and first line: messages from deeper layers are already sanitized.
    log(`codex-fleet server: ${c.req.method} ${c.req.path} failed: ${error.name}: ${error.message.split('\n')[0]}`);
    return c.json({ error: 'internal error; see the server log' }, 500);
  });

  return {
    app,
    hub,
    gate,
    close: () => {
      stopMonitorNotices();
      hub.close();
    },
  };
}

const MONITOR_NOTICE_MS = 1000;

/** At most one 'monitor' notice a second: ingest commits thousands of batches a second under load. */
function forwardMonitorEvents(emitter: Pick<EventEmitter, 'on' | 'off'>, hub: EventHub, clock: Clock): () => void {
  let timer: NodeJS.Timeout | null = null;
  const onEvents = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      hub.broadcast({ type: 'monitor', at: new Date(clock()).toISOString() });
    }, MONITOR_NOTICE_MS);
    timer.unref();
  };
  emitter.on('events', onEvents);
  return () => {
    emitter.off('events', onEvents);
    if (timer) clearTimeout(timer);
  };
}
