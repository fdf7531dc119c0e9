// The login page for a server with an admin key: the key is typed once and traded for an HttpOnly,
// SameSite=Strict session cookie. Server-rendered, no script, so it works before the app loads.
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { setSessionCookie } from '../middleware/admin-key.ts';
import { clientAddress, LoginThrottle } from '../middleware/login-throttle.ts';
import { SESSION_COOKIE, safeEqual } from '../sessions.ts';
import type { AppEnv, RouteDeps } from './context.ts';

/** Any origin works as the base: only whether the parsed URL stays on it matters. */
const BASE = 'http://codex-fleet.invalid';

/**
 * Only same-origin paths: an open redirect would let a link send a fresh login to another site. The
 * value is parsed the way a browser parses a Location header (tabs and newlines dropped, `\` as `/`),
 * and what comes back is the parsed path, so the browser cannot read it any other way.
 */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

function page(csrf: string, next: string, error: string | null) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Log in · codex-fleet</title>
    <link rel="stylesheet" href="/assets/style.css" />
  </head>
  <body class="login-body">
    <main class="login-card">
      <h1>codex-fleet</h1>
      <p>This server needs its admin key.</p>
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : ''}
      <form method="post" action="/login">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <input type="hidden" name="next" value="${next}" />
        <label for="key">Admin key</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
        <button type="submit" class="btn primary">Log in</button>
      </form>
    </main>
  </body>
</html>`;
}

export function loginRoutes({ sessions, adminKey, clock }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const throttle = new LoginThrottle(clock);

  app.get('/login', (c) => {
    if (adminKey === null) return c.redirect('/', 303);
    const session = c.get('session');
    if (!session) return c.text('cookies are needed to log in', 400);
    return c.html(page(sessions.csrfToken(session.id), safeNext(c.req.query('next')), null));
  });

  app.post('/login', async (c) => {
    if (adminKey === null) return c.redirect('/', 303);
    const session = c.get('session');
    const body = await c.req.parseBody();
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined);
    if (!session || !sessions.checkCsrf(session.id, typeof body._csrf === 'string' ? body._csrf : null)) {
      return c.text('the login form expired; reload /login', 403);
    }
    const address = clientAddress(c);
    const waitMs = throttle.waitMs(address);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      c.header('Retry-After', String(seconds));
      const message = `Too many wrong keys from this address; try again in ${seconds} s.`;
      return c.html(page(sessions.csrfToken(session.id), next, message), 429);
    }
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    if (!safeEqual(key, adminKey)) {
      throttle.failed(address);
      return c.html(page(sessions.csrfToken(session.id), next, 'That key is not valid.'), 401);
    }
    throttle.succeeded(address);
    // A new session id on login, so a cookie planted before login is worth nothing after it.
    sessions.destroy(session.id);
    setSessionCookie(c, sessions.create(true));
    return c.redirect(next, 303);
  });

  app.post('/logout', (c) => {
    sessions.destroy(getCookie(c, SESSION_COOKIE));
    return c.redirect(adminKey === null ? '/' : '/login', 303);
  });
  return app;
}
