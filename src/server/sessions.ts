// Dashboard sessions and their CSRF tokens. A session id lives only in an HttpOnly SameSite=Strict
// cookie; its CSRF token is an HMAC of the id, so the server keeps no token table and a stolen
// token is useless without the cookie. Sessions are in memory: a restart means logging in again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../domain/time.ts';

export const SESSION_COOKIE = 'cf_session';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  /** True once the admin key was presented on the login page (or when no key is configured). */
  authenticated: boolean;
  expiresAt: number;
}

export class SessionStore {
  private readonly secret = randomBytes(32);
  private readonly sessions = new Map<string, Session>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  create(authenticated: boolean): Session {
    this.sweep();
    const session = {
      id: randomBytes(24).toString('base64url'),
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

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${sessionId}`).digest('base64url');
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
  return x.length === y.length && timingSafeEqual(x, y);
}
