// Who may use the server. Rules: a non-loopback bind needs an admin key; when a key exists every
// route but /healthz, /login and /assets needs it (header) or a logged-in session cookie; every
// mutating request from a browser session also needs the session's CSRF token. On loopback without a
// key, mutating requests still need the CSRF token, so another web page cannot drive the API.

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { nodeCrypto } from '../../runtime/crypto.ts';
import { SESSION_COOKIE, type Session, type SessionStore, safeEqual } from '../sessions.ts';

export const ADMIN_KEY_ENV = 'CODEX_FLEET_ADMIN_KEY';
export const ADMIN_KEY_FILE = 'admin-key';
const MIN_KEY_LENGTH = 16;

export class AdminKeyError extends Error {
  override name = 'AdminKeyError';
}

export interface AdminKeyResolution {
  key: string | null;
  source: 'env' | 'file' | 'generated' | 'none';
  /** The file a stored or generated key lives in. */
  file: string | null;
}

/** 127.0.0.0/8, ::1 and localhost. 0.0.0.0 and :: bind every interface, so they are not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Finds the admin key for a bind address: CODEX_FLEET_ADMIN_KEY, else (off loopback) the key stored
 * in <dataDir>/admin-key, else a new one written there with mode 0600 (source 'generated': the caller
 * prints it once). Throws AdminKeyError, saying why and how to fix it, when none can be had.
 */
export function resolveAdminKey(opts: { host: string; dataDir: string; env?: NodeJS.ProcessEnv }): AdminKeyResolution {
  const env = opts.env ?? process.env;
  const fromEnv = env[ADMIN_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.trim().length < MIN_KEY_LENGTH) {
      throw new AdminKeyError(
        `${ADMIN_KEY_ENV} is too short (${fromEnv.trim().length} characters); use at least ${MIN_KEY_LENGTH}, e.g. \`openssl rand -hex 24\``,
      );
    }
    return { key: fromEnv.trim(), source: 'env', file: null };
  }
  if (isLoopbackHost(opts.host)) return { key: null, source: 'none', file: null };

  const file = join(opts.dataDir, ADMIN_KEY_FILE);
  let mode: number | null = null;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(opts.host, file, error);
  }
  if (mode !== null) {
    if ((mode & 0o077) !== 0) {
      throw new AdminKeyError(
        `refusing to bind ${opts.host}: the admin key file ${file} has mode ${(mode & 0o777).toString(8)} and others can read it; run \`chmod 600 ${file}\` or delete it to generate a new key`,
      );
    }
    const key = readFileSync(file, 'utf8').trim();
    if (key.length < MIN_KEY_LENGTH) {
      throw new AdminKeyError(`refusing to bind ${opts.host}: ${file} holds no usable key; delete it to generate one`);
    }
    return { key, source: 'file', file };
  }
  const key = nodeCrypto().randomBytes(24).toString('base64url');
  try {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a key another process just wrote.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw unusable(opts.host, file, error);
  }
  return { key, source: 'generated', file };
}

function unusable(host: string, file: string, error: unknown): AdminKeyError {
  const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new AdminKeyError(
    `refusing to bind ${host} without an admin key: cannot store one in ${file} (${why}); set ${ADMIN_KEY_ENV} or choose a writable --data-dir`,
  );
}

export type AuthVia = 'key' | 'session' | 'local';
export interface AuthVars {
  /** Who is acting, for the audit log. */
  actor: string;
  authVia: AuthVia | null;
  session: Session | null;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PUBLIC_PREFIXES = ['/healthz', '/login', '/assets/'];

function isPublic(path: string): boolean {
  return PUBLIC_PREFIXES.some((p) => path === p || (p.endsWith('/') && path.startsWith(p)));
}

/** Liveness and static files never need a CSRF token, so they never hand out a cookie. */
function needsVisitor(path: string): boolean {
  return path !== '/healthz' && !path.startsWith('/assets/') && path !== '/favicon.ico';
}

function presentedKey(c: Context): string | null {
  const header = c.req.header('x-admin-key');
  if (header) return header.trim();
  const auth = c.req.header('authorization');
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m ? m[1].trim() : null;
}

function wantsHtml(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
}

export function setSessionCookie(c: Context, session: Session): void {
  setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/' });
}

/** The CSRF token a request carries: header for fetch(), `_csrf` field for plain HTML forms. */
async function presentedCsrf(c: Context): Promise<string | null> {
  const header = c.req.header('x-csrf-token');
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    const body = await c.req.parseBody();
    const v = body['_csrf'];
    return typeof v === 'string' ? v : null;
  }
  return null;
}

/** A mutating request from another origin is refused even before the token check. */
function crossOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== c.req.header('host');
  } catch {
    return true;
  }
}

export function adminGuard(opts: { adminKey: string | null; sessions: SessionStore }): MiddlewareHandler<{
  Variables: AuthVars;
}> {
  const { adminKey, sessions } = opts;
  return async (c, next) => {
    c.set('actor', 'anonymous');
    c.set('authVia', null);
    const cookie = getCookie(c, SESSION_COOKIE);
    let session = sessions.get(cookie) ?? sessions.visitor(cookie, adminKey === null);
    // Pages hand out a visitor id (and so a CSRF token) on first visit; nothing is stored for it.
    if (!session && wantsHtml(c) && needsVisitor(c.req.path)) {
      session = sessions.newVisitor(adminKey === null);
      setSessionCookie(c, session);
    }
    c.set('session', session);
    if (isPublic(c.req.path)) return next();

    const key = presentedKey(c);
    if (key !== null) {
      if (adminKey === null || !safeEqual(key, adminKey)) {
        return c.json({ error: 'the admin key presented is not valid' }, 401);
      }
      c.set('actor', 'person:admin-key');
      c.set('authVia', 'key');
      return next(); // a header cannot be sent by another site's page: no CSRF needed
    }

    if (adminKey !== null && !session?.authenticated) {
      if (wantsHtml(c)) {
        const url = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return c.json(
        { error: 'admin key required: send it as X-Admin-Key (or Authorization: Bearer), or log in at /login' },
        401,
      );
    }
    c.set('actor', adminKey === null ? 'person:local' : 'person:dashboard');
    c.set('authVia', adminKey === null ? 'local' : 'session');

    if (MUTATING.has(c.req.method)) {
      if (crossOrigin(c)) return c.json({ error: 'cross-origin request refused' }, 403);
      if (!session) {
        return c.json(
          { error: 'no session: open the dashboard (or GET /api/session) first, or send the admin key' },
          403,
        );
      }
      if (!sessions.checkCsrf(session.id, await presentedCsrf(c))) {
        return c.json({ error: 'missing or invalid CSRF token (X-CSRF-Token header or _csrf form field)' }, 403);
      }
    }
    return next();
  };
}
