// Dashboard sessions and their CSRF tokens. A session id lives only in an HttpOnly SameSite=Strict
// cookie; its CSRF token is an HMAC of the id, so the server keeps no token table and a stolen
// token is useless without the cookie. Only a successful login stores a session (in memory: a
// restart means logging in again); before that a visitor holds a random id the server does not keep,
// which is enough for the login form's CSRF token. So anonymous requests, however many, never push a
// signed-in session out of the bounded store.

import type { Clock } from '../domain/time.ts';
import { nodeCrypto } from '../runtime/crypto.ts';

export const SESSION_COOKIE = 'cf_session';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;
/** 24 random bytes in base64url, as newVisitor() makes them. */
const VISITOR_ID = /^[A-Za-z0-9_-]{32}$/;

export interface Session {
  id: string;
  /** True once the admin key was presented on the login page (or when no key is configured). */
  authenticated: boolean;
  expiresAt: number;
}

export class SessionStore {
  private readonly secret = nodeCrypto().randomBytes(32);
  private readonly sessions = new Map<string, Session>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** A signed-in session: call only after a successful login. */
  create(authenticated: boolean): Session {
    this.sweep();
    const session = {
      id: nodeCrypto().randomBytes(24).toString('base64url'),
      authenticated,
      expiresAt: this.clock() + SESSION_TTL_MS,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  /** A new visitor id: nothing is stored, the cookie alone carries it. */
  newVisitor(authenticated: boolean): Session {
    return {
      id: nodeCrypto().randomBytes(24).toString('base64url'),
      authenticated,
      expiresAt: Number.POSITIVE_INFINITY,
    };
  }

  /** The visitor a cookie names when it is no stored session (a well-formed id only). */
  visitor(id: string | undefined, authenticated: boolean): Session | null {
    if (!id || !VISITOR_ID.test(id) || this.sessions.has(id)) return null;
    return { id, authenticated, expiresAt: Number.POSITIVE_INFINITY };
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  csrfToken(sessionId: string): string {
    return nodeCrypto().createHmac('sha256', this.secret).update(`csrf:${sessionId}`).digest('base64url');
  }

  checkCsrf(sessionId: string, token: string | undefined | null): boolean {
    if (!token) return false;
    return safeEqual(token, this.csrfToken(sessionId));
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
    // Bound memory against a client that keeps dropping cookies: forget the oldest.
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
  }
}

/** Constant-time string comparison (length leaks, content does not). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && nodeCrypto().timingSafeEqual(x, y);
}
