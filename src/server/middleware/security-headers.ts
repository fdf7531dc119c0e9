// Strict headers on every answer. The CSP allows only this origin; the one inline script (the import
// map that lets preact's hooks find preact) is allowed by its hash, not by 'unsafe-inline'.
import type { MiddlewareHandler } from 'hono';

export function securityHeaders(opts: { scriptHashes?: string[] } = {}): MiddlewareHandler {
  const hashes = (opts.scriptHashes ?? []).map((h) => ` '${h}'`).join('');
  const csp = [
    "default-src 'self'",
    `script-src 'self'${hashes}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', csp);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
