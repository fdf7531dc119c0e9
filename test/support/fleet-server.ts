// Starts the real HTTP server on 127.0.0.1 with a free port around the real application core
// (src/core/fleet-service.ts) over the upstream simulator, for API and browser tests. No stand-in:
// what the tests see is what the CLI sees. A small loopback gate in front of the simulator can hold one
// account's probes open, to prove that one slow account never blocks the page. Always close() it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService, type FleetServiceOptions } from '../../src/core/fleet-service.ts';
import type { RunningServer, ServeOptions } from '../../src/server/serve.ts';
import { startServer } from '../../src/server/serve.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type SimAccountSpec, type Simulator, startSimulator } from '../../src/sim/index.ts';

/** The CPA server the tests' settings list holds (never contacted: its key must never leak). */
export const TEST_CPA_KEY = 'mgmt-SECRET-0001-abcdefghijklmnopqrstuvwxyz';

// A cycle of account situations, so a small fleet shows every status.
const MIX: Array<{ spec: Partial<SimAccountSpec>; disabled?: boolean }> = [
  { spec: { scenario: 'healthy', primaryUsedPercent: 12, secondaryUsedPercent: 30 } },
  { spec: { scenario: 'healthy', primaryUsedPercent: 40, secondaryUsedPercent: 55 } },
  { spec: { scenario: 'healthy', primaryUsedPercent: 88, secondaryUsedPercent: 70 } },
  { spec: { scenario: 'exhausted' } },
  { spec: { scenario: 'account-deactivated' } },
  { spec: { scenario: 'healthy', primaryUsedPercent: 5, secondaryUsedPercent: 10 } },
  { spec: { scenario: 'healthy', primaryUsedPercent: 20, secondaryUsedPercent: 20 }, disabled: true },
];

export interface TestServer {
  url: string;
  server: RunningServer;
  /** The real core the server runs on. */
  fleet: FleetService;
  sim: Simulator;
  dataDir: string;
  accountDir: string;
  /** The core's id of the account whose auth file is `<name>.json` (acct-01, acct-02, …). */
  idOf(name: string): Promise<string>;
  /** A token as stored in the auth file now (tests check writes without reading an API answer). */
  storedToken(name: string, field: 'accessToken' | 'refreshToken' | 'idToken'): string | null;
  /**
   * Holds every upstream call of this account until the returned function is called; its `arrived`
   * settles once a call is being held (the probe is then in flight upstream, not just scheduled).
   */
  holdProbe(name: string): (() => void) & { arrived: Promise<void> };
  /** Every token the simulator issued and the CPA management key: none may ever leave through a route. */
  secrets(): string[];
  /** How many times the server asked the core for a full refresh. */
  readonly refreshAllCalls: number;
  /** True once the server closed the core. */
  readonly closed: boolean;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    adminKey?: string;
    accounts?: number;
    monitor?: ServeOptions['monitor'];
    monitorEvents?: ServeOptions['monitorEvents'];
    refreshIntervalSeconds?: number;
    /** Serve this already-open core instead of one over the simulator's accounts (it is closed with the server). */
    service?: FleetService;
    serviceOptions?: Partial<FleetServiceOptions>;
    /** Probe every account once before returning, as `serve` does at start (default true). */
    initialRefresh?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'codex-fleet-server-'));
  const accountDir = join(dataDir, 'account');
  const n = opts.accounts ?? 12;
  const names = Array.from({ length: n }, (_, i) => `acct-${String(i + 1).padStart(2, '0')}`);
  const sim = await startSimulator({
    accounts: names.map((name, i) => ({ name, email: `${name}@example.test`, ...MIX[i % MIX.length].spec })),
  });
  await mkdir(accountDir, { recursive: true, mode: 0o700 });
  for (const [i, a] of sim.accounts.entries()) {
    const doc = { ...cpaFile(a), disabled: MIX[i % MIX.length].disabled === true };
    writeFileSync(join(accountDir, `${a.name}.json`), JSON.stringify(doc, null, 2), { mode: 0o600 });
  }
  const gate = await startGate(sim.baseUrl);
  const config = resolveConfig(
    {
      dataDir: join(dataDir, 'data'),
      accountDir,
      chatgptUrl: `${gate.url}/backend-api`,
      authUrl: sim.authUrl,
      retries: 0,
      retryDelay: 0.01,
      timeoutMs: 10_000,
    },
    {},
  );
  const fleet = opts.service ?? (await createFleetService({ config, background: false, ...opts.serviceOptions }));
  if (!opts.service) {
    await fleet.saveCpaServer({ name: 'cpa-main', url: 'http://127.0.0.1:8317', managementKey: TEST_CPA_KEY });
  }
  let refreshAllCalls = 0;
  let closed = false;
  const refreshAll = fleet.refreshAll.bind(fleet);
  fleet.refreshAll = () => {
    refreshAllCalls++;
    return refreshAll();
  };
  const closeFleet = fleet.close.bind(fleet);
  fleet.close = async () => {
    await closeFleet();
    closed = true;
  };
  const env: NodeJS.ProcessEnv = opts.adminKey ? { CODEX_FLEET_ADMIN_KEY: opts.adminKey } : {};
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    service: fleet,
    dataDir,
    env,
    log: () => {},
    shutdownGraceMs: 2000,
    monitor: opts.monitor,
    monitorEvents: opts.monitorEvents,
    refreshIntervalSeconds: opts.refreshIntervalSeconds,
  });
  // Like `serve`: the first refresh runs at start, so the pages have quota to show.
  if (opts.initialRefresh !== false) await server.fleetApp.gate.refreshAll().done;
  const simAccount = (name: string) => {
    const a = sim.accounts.find((x) => x.name === name);
    if (!a) throw new Error(`no simulated account ${name}`);
    return a;
  };
  return {
    url: server.url,
    server,
    fleet,
    sim,
    dataDir,
    accountDir,
    async idOf(name) {
      const account = (await fleet.listAccounts()).find((a) => a.name === name);
      if (!account) throw new Error(`the core lists no account named ${name}`);
      return account.id;
    },
    storedToken(name, field) {
      const doc = JSON.parse(readFileSync(join(accountDir, `${name}.json`), 'utf8')) as Record<string, unknown>;
      const key = { accessToken: 'access_token', refreshToken: 'refresh_token', idToken: 'id_token' }[field];
      const tokens = (doc.tokens as Record<string, unknown> | undefined) ?? doc;
      return typeof tokens[key] === 'string' ? (tokens[key] as string) : null;
    },
    holdProbe: (name) => gate.hold(simAccount(name).id),
    secrets: () => [TEST_CPA_KEY, ...sim.accounts.flatMap((a) => [a.accessToken, a.refreshToken, a.idToken])],
    get refreshAllCalls() {
      return refreshAllCalls;
    },
    get closed() {
      return closed;
    },
    close: async () => {
      await server.close();
      await fleet.close().catch(() => {});
      await gate.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback pass-through to the simulator that can hold one account's calls (by ChatGPT-Account-Id). */
async function startGate(target: string) {
  const held = new Map<string, { promise: Promise<void>; release: () => void; arrive: () => void }>();
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const account = String(req.headers['chatgpt-account-id'] ?? '');
    held.get(account)?.arrive();
    const wait = held.get(account)?.promise ?? Promise.resolve();
    void wait.then(() => {
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold(accountId: string): (() => void) & { arrived: Promise<void> } {
      let release!: () => void;
      let arrive!: () => void;
      const promise = new Promise<void>((r) => {
        release = r;
      });
      const arrived = new Promise<void>((r) => {
        arrive = r;
      });
      held.set(accountId, { promise, release, arrive });
      return Object.assign(
        () => {
          held.delete(accountId);
          release();
        },
        { arrived },
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const h of held.values()) h.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
