// Liveness, Prometheus metrics, the caller's session (CSRF token for API clients) and the SSE stream.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { setSessionCookie } from '../middleware/admin-key.ts';
import type { FleetEvent } from '../service.ts';
import type { AppEnv, RouteDeps } from './context.ts';

const HEARTBEAT_MS = 25_000;

export function systemRoutes(deps: RouteDeps & { version: string; startedAt: number }): Hono<AppEnv> {
  const { service, hub, sessions, clock, adminKey } = deps;
  const app = new Hono<AppEnv>();

  app.get('/healthz', (c) =>
    c.json({ status: 'ok', version: deps.version, uptimeSeconds: Math.round((clock() - deps.startedAt) / 1000) }),
  );

  app.get('/metrics', async (c) => {
    const { contentType, body } = await service.metrics();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  // API clients on loopback: GET this once, then send the cookie and X-CSRF-Token on writes.
  app.get('/api/session', (c) => {
    let session = c.get('session');
    if (!session) {
      session = sessions.newVisitor(adminKey === null);
      c.set('session', session);
      setSessionCookie(c, session);
    }
    return c.json({
      authenticated: c.get('authVia') !== null,
      via: c.get('authVia'),
      adminKeyRequired: adminKey !== null,
      csrfToken: sessions.csrfToken(session.id),
    });
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let closeStream!: () => void;
      const ended = new Promise<void>((r) => {
        closeStream = r;
      });
      const queue: FleetEvent[] = [];
      let writing = false;
      // Events are written in order, one at a time; a slow client only delays itself.
      const pump = async () => {
        if (writing) return;
        writing = true;
        while (queue.length > 0 && !stream.aborted) {
          const e = queue.shift()!;
          await stream.writeSSE({ event: e.type, data: JSON.stringify(e) }).catch(closeStream);
        }
        writing = false;
      };
      const remove = hub.add({
        send: (e) => {
          if (queue.length < 1000) queue.push(e);
          void pump();
        },
        close: closeStream,
      });
      stream.onAbort(closeStream);
      const heartbeat = setInterval(() => {
        void stream.write(': keep-alive\n\n').catch(closeStream);
      }, HEARTBEAT_MS);
      heartbeat.unref();
      await stream.writeSSE({ event: 'hello', data: JSON.stringify({ at: new Date(clock()).toISOString() }) });
      await ended;
      clearInterval(heartbeat);
      remove();
    }),
  );
  return app;
}
