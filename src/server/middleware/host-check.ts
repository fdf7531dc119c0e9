// Without an admin key the server trusts loopback, so it must make sure the request really targets
// loopback: a DNS-rebinding page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from './admin-key.ts';

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.replace(/:\d+$/, '');
}

export function loopbackHostGuard(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!host || !isLoopbackHost(hostname(host))) {
      return c.json(
        { error: 'this server only answers requests for localhost / 127.0.0.1 (no admin key is set)' },
        421,
      );
    }
    return next();
  };
}
