// Refuses requests that change state when a browser says they come from another site. Covers every
// POST/PUT/PATCH/DELETE and the few GETs that do work (codex-quota's `GET /refresh`, kept for
// compatibility): an <img> or link on any page could otherwise trigger them on a keyless loopback
// server. Scripts (curl, codex-quota) send none of these headers and are unaffected.
import type { Context, MiddlewareHandler } from 'hono';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** GET routes that start work; everything else under GET only reads. */
export const STATE_CHANGING_GETS: readonly string[] = ['/refresh'];

/** Why the request looks cross-site, or null. Sec-Fetch-Site first: browsers set it and pages cannot forge it; Origin and Referer only for browsers without it. */
export function crossSiteReason(c: Context): string | null {
  const site = c.req.header('sec-fetch-site');
  // A browser that sends Sec-Fetch-Site is believed: our pages set Referrer-Policy: no-referrer, so
  // their own form posts carry `Origin: null`, which alone would look cross-site.
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site is ${site}`;
  const host = c.req.header('host');
  const origin = c.req.header('origin');
  if (origin !== undefined)
    return sameHost(origin, host) ? null : `Origin ${origin === 'null' ? 'null' : 'is another site'}`;
  const referer = c.req.header('referer');
  if (referer !== undefined && !sameHost(referer, host)) return 'Referer is another site';
  return null;
}

function sameHost(url: string, host: string | undefined): boolean {
  if (!host || url === 'null') return false;
  try {
    return new URL(url).host === host.toLowerCase();
  } catch {
    return false;
  }
}

export function crossSiteGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (MUTATING.has(c.req.method) || (c.req.method === 'GET' && STATE_CHANGING_GETS.includes(c.req.path))) {
      const reason = crossSiteReason(c);
      if (reason) return c.json({ error: `cross-site request refused (${reason})` }, 403);
    }
    return next();
  };
}
