// The upstream simulator: one loopback HTTP server playing the ChatGPT backend and the OAuth token
// endpoint for a fleet of accounts, each following a scenario. Tests, benchmarks and demo mode use it.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import {
  type AccountState,
  buildWindows,
  createAccountState,
  type SimAccount,
  type SimAccountSpec,
  simAccountSpecSchema,
} from './account.ts';
import { buildApp, type RetiredPath, type SimCore } from './app.ts';
import { type AuthFileWriteFormat, type WriteAuthFilesOptions, writeAuthFiles } from './auth-files.ts';
import { demoAccounts } from './demo.ts';
import { createRng, type LatencySpec, latencySpecSchema } from './rng.ts';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from './scenarios.ts';
import { createStats, type SimStats } from './stats.ts';

export type { SimAccount, SimAccountSpec } from './account.ts';
export type { RetiredPath } from './app.ts';
export { AUTH_FILE_WRITE_FORMATS, type AuthFileWriteFormat, type WriteAuthFilesOptions } from './auth-files.ts';
export { demoAccounts } from './demo.ts';
export { createRng, type LatencySpec, parseLatencyFlag, sampleLatency } from './rng.ts';
export { parseScenarioSetup, parseScenariosFlag, readScenarioFile, type ScenarioSetup } from './scenario-file.ts';
export { isScenarioName, SCENARIO_NAMES, SCENARIOS, type ScenarioDef, type ScenarioName } from './scenarios.ts';
export type { SimStats } from './stats.ts';
export { DEFAULT_TEAM_SEATS, TEAM_WORKSPACE_ID, type TeamSeat, teamWorkspaceAccounts } from './team.ts';
export { decodeJwtPayload, SIM_CLIENT_ID } from './tokens.ts';

export interface SimulatorOptions {
  accounts?: SimAccountSpec[];
  /** Demo mix of this many accounts when no specs are given (default 30). */
  count?: number;
  latency?: LatencySpec;
  port?: number;
  seed?: number;
  /** Per client IP; above it every backend call gets the Cloudflare HTML 403. */
  cloudflareMaxInFlight?: number;
  retiredPaths?: RetiredPath[];
  /** Share (0..1) of backend calls without an `originator` header that get the Cloudflare challenge. */
  cloudflareWithoutOriginatorRate?: number;
  /** ms since epoch; advance() adds to it. */
  clock?: () => number;
  /** Token endpoint answers this late (after rotating), so tests can kill a client mid-refresh. */
  refreshDelayMs?: number;
  /** The CPA helper mounts its CPA emulation here. */
  extraRoutes?: (app: Hono) => void;
}

export interface Simulator {
  baseUrl: string;
  /** baseUrl + '/backend-api' */
  chatgptUrl: string;
  /** baseUrl + '/oauth/token' */
  authUrl: string;
  /** Live: tokens change as refreshes rotate them. */
  accounts: SimAccount[];
  /** Moves the sim clock: windows reset, exhausted accounts recover, tokens age. */
  advance(seconds: number): void;
  /** Sim time, ms since epoch. */
  now(): number;
  /** By account id, or by email for one seat of a workspace whose seats share the id. */
  setScenario(accountId: string, scenario: ScenarioName): void;
  stats(): SimStats;
  resetStats(): void;
  /** Retires usage paths from now on (replaces the list; [] brings them all back). */
  setRetiredPaths(paths: RetiredPath[]): void;
  /** Global latency from now on (per-account latency still wins). */
  setLatency(latency: LatencySpec | undefined): void;
  writeAuthFiles(dir: string, format: AuthFileWriteFormat, opts?: WriteAuthFilesOptions): Promise<string[]>;
  close(): Promise<void>;
}

function badRetiredPath(paths: RetiredPath[]): string | null {
  const bad = paths.find((p) => !['/wham', '/codex'].includes(p?.path) || ![403, 404].includes(p?.status));
  return bad === undefined ? null : `${JSON.stringify(bad)} is not {path:'/wham'|'/codex', status:403|404}`;
}

function validateOptions(opts: SimulatorOptions): void {
  const problems: string[] = [];
  const retired = badRetiredPath(opts.retiredPaths ?? []);
  if (retired) problems.push(`retiredPaths: ${retired}`);
  if (opts.accounts) {
    opts.accounts.forEach((spec, i) => {
      const r = simAccountSpecSchema.safeParse(spec);
      if (!r.success) problems.push(...r.error.issues.map((x) => `accounts[${i}].${x.path.join('.')}: ${x.message}`));
    });
  }
  if (opts.latency != null && !latencySpecSchema.safeParse(opts.latency).success) {
    problems.push('latency: use ms, {kind:"uniform",minMs,maxMs}, {kind:"normal",meanMs,sdMs} or {kind:"lognormal",…}');
  }
  if (opts.count != null && (!Number.isInteger(opts.count) || opts.count < 0))
    problems.push('count: whole number >= 0');
  if (opts.cloudflareMaxInFlight != null && !(opts.cloudflareMaxInFlight >= 1)) {
    problems.push('cloudflareMaxInFlight: must be >= 1');
  }
  const rate = opts.cloudflareWithoutOriginatorRate;
  if (rate != null && !(rate >= 0 && rate <= 1)) problems.push('cloudflareWithoutOriginatorRate: a share from 0 to 1');
  if (problems.length) throw new Error(`simulator options are not valid:\n  ${problems.join('\n  ')}`);
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(opts);
  const seed = opts.seed ?? 1;
  const rng = createRng(seed);
  const baseClock = opts.clock ?? Date.now;
  let offsetMs = 0;
  const nowMs = () => baseClock() + offsetMs;
  const closing = new AbortController();
  const core: SimCore = {
    now: () => nowMs() / 1000,
    rng,
    stats: createStats(),
    byAccessToken: new Map(),
    byRefreshToken: new Map(),
    usedRefreshTokens: new Map(),
    latency: opts.latency,
    refreshDelayMs: opts.refreshDelayMs ?? 0,
    cloudflareMaxInFlight: opts.cloudflareMaxInFlight,
    cloudflareWithoutOriginatorRate: opts.cloudflareWithoutOriginatorRate ?? 0,
    retiredPaths: opts.retiredPaths ?? [],
    closing: closing.signal,
  };
  const specs = opts.accounts ?? demoAccounts(opts.count ?? 30, seed);
  const states: AccountState[] = specs.map((spec, i) => createAccountState(spec, i, rng, core.now()));
  // Seats of one Team workspace share the account id; each seat is one (id, email) pair.
  const byId = new Map<string, AccountState[]>();
  for (const s of states) {
    const seats = byId.get(s.account.id) ?? [];
    if (seats.some((o) => o.account.email === s.account.email)) {
      throw new Error(`simulator options: account id ${s.account.id} with email ${s.account.email} is used twice`);
    }
    seats.push(s);
    byId.set(s.account.id, seats);
    core.byAccessToken.set(s.account.accessToken, s);
    core.byRefreshToken.set(s.account.refreshToken, s);
  }

  const app = buildApp(core);
  opts.extraRoutes?.(app);

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: opts.port ?? 0 }, () => resolve(s as Server));
    s.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE' ? 'the port is in use; pick another port, or 0 for any free one' : error.message;
      reject(new Error(`simulator cannot listen on 127.0.0.1:${opts.port ?? 0}: ${why}`));
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | null = null;

  return {
    baseUrl,
    chatgptUrl: `${baseUrl}/backend-api`,
    authUrl: `${baseUrl}/oauth/token`,
    accounts: states.map((s) => s.account),
    advance(seconds: number) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`advance() needs seconds >= 0, got ${seconds}`);
      offsetMs += seconds * 1000;
    },
    now: nowMs,
    setScenario(accountId: string, scenario: ScenarioName) {
      // An id, or a seat's email when seats share a workspace id.
      const seats = byId.get(accountId) ?? states.filter((s) => s.account.email === accountId);
      if (seats.length === 0) throw new Error(`setScenario: no simulated account with id or email ${accountId}`);
      if (seats.length > 1) {
        throw new Error(`setScenario: ${seats.length} seats share id ${accountId}: name the seat by its email`);
      }
      const state = seats[0];
      if (!isScenarioName(scenario)) {
        throw new Error(`setScenario: unknown scenario "${scenario}": use one of ${SCENARIO_NAMES.join(', ')}`);
      }
      const def = SCENARIOS[scenario];
      state.account.scenario = scenario;
      state.account.plan = state.spec.plan ?? def.plan;
      Object.assign(state, buildWindows(state, core.now()));
      state.failuresLeft = state.spec.failures ?? 2;
      // The token the client holds stops working; a refresh brings a good one.
      if (def.tokenExpired) state.accessExpired = true;
    },
    stats: () => core.stats.snapshot(),
    resetStats: () => core.stats.reset(),
    setRetiredPaths(paths: RetiredPath[]) {
      const bad = badRetiredPath(paths);
      if (bad) throw new Error(`setRetiredPaths: ${bad}`);
      core.retiredPaths = [...paths];
    },
    setLatency(latency: LatencySpec | undefined) {
      if (latency != null && !latencySpecSchema.safeParse(latency).success) {
        throw new Error(`setLatency: ${JSON.stringify(latency)} is not a latency spec`);
      }
      core.latency = latency;
    },
    writeAuthFiles: (dir, format, writeOpts) =>
      writeAuthFiles(
        states.map((s) => s.account),
        dir,
        format,
        writeOpts,
      ),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
