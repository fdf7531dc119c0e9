// Starts the real HTTP server on 127.0.0.1 with a free port around a FleetService, for API and
// browser tests. Always close() it in teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer, ServeOptions } from '../../src/server/serve.ts';
import { startServer } from '../../src/server/serve.ts';
import type { FleetService } from '../../src/server/service.ts';
import { MemoryFleet } from './memory-fleet.ts';

export interface TestServer {
  url: string;
  server: RunningServer;
  fleet: MemoryFleet;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    adminKey?: string;
    accounts?: number;
    service?: FleetService;
    monitor?: ServeOptions['monitor'];
    monitorEvents?: ServeOptions['monitorEvents'];
    refreshIntervalSeconds?: number;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'codex-fleet-server-'));
  const fleet = new MemoryFleet({ clock: Date.now, accounts: opts.accounts ?? 12 });
  const env: NodeJS.ProcessEnv = opts.adminKey ? { CODEX_FLEET_ADMIN_KEY: opts.adminKey } : {};
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    service: opts.service ?? fleet,
    dataDir,
    env,
    log: () => {},
    shutdownGraceMs: 2000,
    monitor: opts.monitor,
    monitorEvents: opts.monitorEvents,
    refreshIntervalSeconds: opts.refreshIntervalSeconds,
  });
  return {
    url: server.url,
    server,
    fleet,
    dataDir,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A cookie-keeping API client that behaves like the dashboard page (session cookie + CSRF token). */
export class ApiClient {
  private cookie = '';
  csrf = '';
  readonly base: string;
  readonly headers: Record<string, string>;

  constructor(base: string, headers: Record<string, string> = {}) {
    this.base = base;
    this.headers = headers;
  }

  async start(): Promise<this> {
    const res = await this.request('GET', '/api/session');
    this.csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
    return this;
  }

  async request(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers, ...extra };
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET' && this.csrf && !('x-csrf-token' in headers)) headers['x-csrf-token'] = this.csrf;
    let payload: string | undefined;
    if (typeof body === 'string') payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers, body: payload, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    return res;
  }

  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await this.request(method, path, body);
    return { status: res.status, body: (await res.json()) as T };
  }
}
