// Client for one CPA server's management API, both route generations (v8 names first, then v0).
// Ban safety: CPA bans an IP for 30 minutes after 5 bad keys, so the first call verifies the key
// alone (other calls wait for it), and any 401 opens a breaker that stops every further call to
// this server until reconfigure() is called with a new key. The key never appears in an error.
import type { z } from 'zod';
import { closeSharedBreaker, openSharedBreaker, serverLimiter, sharedBreaker } from './guard.ts';
import { CPA_GENERATIONS, CPA_ROUTES, type CpaGeneration, type CpaRoutes } from './routes.ts';
import type { AuthFileWire } from './schemas.ts';
import type {
  CpaApiCallRequest,
  CpaApiCallResponse,
  CpaAuthFile,
  CpaBreakerState,
  CpaDeleteResult,
  CpaError,
  CpaErrorKind,
  CpaResult,
  CpaServerConfig,
  CpaUsageSettings,
  UsageQueueRecord,
} from './types.ts';

export interface CpaClientOptions {
  fetch?: typeof fetch;
  /** Per management call; default 15 s. */
  timeoutMs?: number;
  /** api-call waits for the upstream, which CPA itself gives 60 s; default 70 s. */
  apiCallTimeoutMs?: number;
  /** Skip detection when the generation is already known (e.g. stored from an earlier run). */
  generation?: CpaGeneration;
  /** Start with the breaker open (a 401 seen by an earlier process with this same key). */
  openBreaker?: string | null;
  /** Called once when the breaker opens, so the reason can be persisted across runs. */
  onBreakerOpen?: (reason: string) => void;
  /**
   * Requests in flight at once to this server, shared by every client in the process (default 4). If
   * the key is revoked mid-sweep, every request already sent fails before the first 401 is back:
   * fewer than 5 in flight means that can never add up to a ban.
   */
  maxInFlight?: number;
}

/** A name no auth file has: detection lists with it so the probe answer is tiny. */
const PROBE_NAME = '__codex-fleet-route-probe__';
const MAX_USAGE_POP = 10_000;
/** CPA keeps usage records this long unless redis-usage-queue-retention-seconds says otherwise. */
export const CPA_DEFAULT_RETENTION_SECONDS = 60;

interface RawAnswer {
  status: number;
  text: string;
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Array<[string, string]>;
  json?: unknown;
  timeoutMs?: number;
  /** The caller's own deadline or cancel, on top of timeoutMs. */
  signal?: AbortSignal;
}

export function ok<T>(value: T): CpaResult<T> {
  return { ok: true, value };
}

/** Accepts http://host:port, with or without a trailing /v0/management or /v8/management. */
export function normalizeCpaUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return null;
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/v(0|8)\/management$/, '');
  return `${parsed.origin}${path}`;
}

export class CpaClient {
  #name: string;
  #baseUrl: string | null;
  #key: string;
  #fetch: typeof fetch;
  #timeoutMs: number;
  #apiCallTimeoutMs: number;
  #fixedGeneration: CpaGeneration | null;
  #generation: CpaGeneration | null = null;
  #detecting: Promise<CpaResult<CpaGeneration>> | null = null;
  #breaker: string | null = null;
  #onBreakerOpen: ((reason: string) => void) | null;
  #maxInFlight: number;
  /** Bumped by reconfigure(): answers to requests sent with the old config must not touch the new state. */
  #epoch = 0;

  constructor(server: CpaServerConfig, options: CpaClientOptions = {}) {
    this.#name = server.name;
    this.#baseUrl = normalizeCpaUrl(server.url);
    this.#key = server.managementKey;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#apiCallTimeoutMs = options.apiCallTimeoutMs ?? 70_000;
    this.#fixedGeneration = options.generation ?? null;
    this.#breaker = options.openBreaker ?? null;
    this.#onBreakerOpen = options.onBreakerOpen ?? null;
    this.#maxInFlight = options.maxInFlight ?? 4;
  }

  get name(): string {
    return this.#name;
  }

  /** The detected (or configured) route generation, once known. */
  get generation(): CpaGeneration | null {
    return this.#generation;
  }

  breaker(): CpaBreakerState {
    this.#adoptSharedBreaker();
    return { open: this.#breaker !== null, reason: this.#breaker };
  }

  /** Another client in this process saw this key rejected by this server. */
  #adoptSharedBreaker(): void {
    if (this.#breaker || !this.#baseUrl || !this.#key) return;
    this.#breaker = sharedBreaker(this.#baseUrl, this.#key);
  }

  /** New URL and/or key: closes the breaker and forgets the detected generation. */
  reconfigure(server: CpaServerConfig): void {
    this.#name = server.name;
    this.#baseUrl = normalizeCpaUrl(server.url);
    this.#key = server.managementKey;
    this.#generation = null;
    this.#detecting = null;
    this.#breaker = null;
    this.#epoch++;
    if (this.#baseUrl && this.#key) closeSharedBreaker(this.#baseUrl, this.#key);
  }

  /** Finds which route generation the server speaks; the answer is cached for this client. */
  detectGeneration(): Promise<CpaResult<CpaGeneration>> {
    if (this.#generation) return Promise.resolve(ok(this.#generation));
    this.#adoptSharedBreaker();
    if (this.#breaker) return Promise.resolve(this.#breakerError());
    // Single flight: while the key is unverified, only one request may carry it.
    this.#detecting ??= this.#detect().finally(() => {
      this.#detecting = null;
    });
    return this.#detecting;
  }

  async listAuthFiles(filter: { name?: string; authIndex?: string } = {}): Promise<CpaResult<CpaAuthFile[]>> {
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const query: Array<[string, string]> = [];
    if (filter.name) query.push(['name', filter.name]);
    if (filter.authIndex) query.push(['auth_index', filter.authIndex]);
    const answer = await this.#request({ method: 'GET', path: routes.value.authFiles, query });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, 'list auth files');
    const parsed = this.#parse(answer.value.text, wire().authFileListWire, 'list auth files');
    if (!parsed.ok) return parsed;
    const files = parsed.value.files ?? parsed.value.credentials ?? [];
    return ok(files.map(toAuthFile));
  }

  async setDisabled(name: string, disabled: boolean): Promise<CpaResult<{ disabled: boolean }>> {
    if (!name) return this.#error('invalid_input', null, 'setDisabled needs an auth file name');
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const answer = await this.#request({
      method: 'PATCH',
      path: routes.value.authFileStatus,
      json: { name, disabled },
    });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, `set disabled=${disabled} on ${name}`);
    const parsed = this.#parse(answer.value.text, wire().statusWire, 'set disabled');
    if (!parsed.ok) return parsed;
    return ok({ disabled: parsed.value.disabled });
  }

  /** Deletes in one call (one key check). Names CPA could not delete come back in `failed`, not as an error. */
  async deleteAuthFiles(names: readonly string[]): Promise<CpaResult<CpaDeleteResult>> {
    if (names.length === 0) return ok({ deleted: [], failed: [], partial: false });
    if (names.some((n) => !n)) return this.#error('invalid_input', null, 'deleteAuthFiles got an empty name');
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const answer = await this.#request({ method: 'DELETE', path: routes.value.authFiles, json: { names } });
    if (!answer.ok) return answer;
    const { status, text } = answer.value;
    if (status === 404) {
      // Nothing was deleted: every name is reported as failed with CPA's reason.
      const reason = cpaErrorText(text) ?? 'not found';
      return ok({ deleted: [], failed: names.map((name) => ({ name, error: reason })), partial: false });
    }
    if (status !== 200 && status !== 207) return this.#statusError(answer.value, 'delete auth files');
    const parsed = this.#parse(text, wire().deleteWire, 'delete auth files');
    if (!parsed.ok) return parsed;
    const failed = (parsed.value.failed ?? []).map((f) => ({ name: f.name, error: f.error ?? 'unknown error' }));
    const failedNames = new Set(failed.map((f) => f.name));
    const deleted = parsed.value.files ?? names.filter((n) => !failedNames.has(n));
    return ok({ deleted, failed, partial: status === 207 });
  }

  /** The raw auth file text. It holds tokens: callers must not log or serve it. */
  async downloadAuthFile(name: string): Promise<CpaResult<string>> {
    if (!name) return this.#error('invalid_input', null, 'downloadAuthFile needs an auth file name');
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const answer = await this.#request({ method: 'GET', path: routes.value.authFileDownload, query: [['name', name]] });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, `download ${name}`);
    return ok(answer.value.text);
  }

  /** Has CPA make an HTTP call with an account's credentials ($TOKEN$ in a header becomes its access token). */
  async apiCall(request: CpaApiCallRequest): Promise<CpaResult<CpaApiCallResponse>> {
    if (!request.authIndex) return this.#error('invalid_input', null, 'api-call needs an auth_index');
    if (!/^https?:\/\//i.test(request.url)) return this.#error('invalid_input', null, 'api-call url must be http(s)');
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const body: Record<string, unknown> = {
      auth_index: request.authIndex,
      method: request.method.toUpperCase(),
      url: request.url,
      header: request.header ?? {},
    };
    if (request.data !== undefined) body.data = request.data;
    if (request.proxyUrl) body.proxy_url = request.proxyUrl;
    const answer = await this.#request({
      method: 'POST',
      path: routes.value.apiCall,
      json: body,
      timeoutMs: this.#apiCallTimeoutMs,
      signal: request.signal,
    });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, 'api-call');
    const parsed = this.#parse(answer.value.text, wire().apiCallWire, 'api-call');
    if (!parsed.ok) return parsed;
    return ok({
      statusCode: parsed.value.status_code,
      header: parsed.value.header ?? {},
      body: parsed.value.body ?? '',
    });
  }

  /** Pops (destructively) up to `count` usage records, oldest first. */
  async popUsageQueue(count: number): Promise<CpaResult<UsageQueueRecord[]>> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_USAGE_POP) {
      return this.#error('invalid_input', null, `usage queue count must be an integer from 1 to ${MAX_USAGE_POP}`);
    }
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const answer = await this.#request({
      method: 'GET',
      path: routes.value.usageQueue,
      query: [['count', String(count)]],
    });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, 'pop usage queue');
    return this.#parse(answer.value.text, wire().usageQueueWire, 'pop usage queue');
  }

  /** Usage publishing and retention from CPA's config. Only these two fields are read; the rest is dropped. */
  async usageSettings(): Promise<CpaResult<CpaUsageSettings>> {
    const routes = await this.#routes();
    if (!routes.ok) return routes;
    const answer = await this.#request({ method: 'GET', path: routes.value.config });
    if (!answer.ok) return answer;
    if (answer.value.status !== 200) return this.#statusError(answer.value, 'read usage settings');
    const parsed = this.#parse(answer.value.text, wire().usageConfigWire, 'read usage settings');
    if (!parsed.ok) return parsed;
    const enabled = parsed.value['usage-statistics-enabled'];
    const retention = parsed.value['redis-usage-queue-retention-seconds'];
    const defaulted: CpaUsageSettings['defaulted'] = [];
    if (enabled == null) defaulted.push('usage-statistics-enabled');
    if (retention == null || retention <= 0) defaulted.push('redis-usage-queue-retention-seconds');
    return ok({
      usageStatisticsEnabled: enabled ?? false,
      retentionSeconds: retention != null && retention > 0 ? retention : CPA_DEFAULT_RETENTION_SECONDS,
      defaulted,
    });
  }

  async #routes(): Promise<CpaResult<CpaRoutes>> {
    const generation = await this.detectGeneration();
    if (!generation.ok) return generation;
    return ok(CPA_ROUTES[generation.value]);
  }

  async #detect(): Promise<CpaResult<CpaGeneration>> {
    const epoch = this.#epoch;
    const candidates = this.#fixedGeneration ? [this.#fixedGeneration] : CPA_GENERATIONS;
    let oddAnswer: CpaResult<never> | null = null;
    for (const generation of candidates) {
      const path = CPA_ROUTES[generation].authFiles;
      const answer = await this.#request({ method: 'GET', path, query: [['name', PROBE_NAME]] });
      if (!answer.ok) return answer;
      if (answer.value.status === 404) continue;
      if (answer.value.status !== 200) return this.#statusError(answer.value, 'detect management routes');
      const parsed = this.#parse(answer.value.text, wire().authFileListWire, `detect management routes (${path})`);
      // A catch-all page in front of CPA can answer 200 for a route CPA lacks: try the other generation.
      if (!parsed.ok) {
        oddAnswer ??= parsed;
        continue;
      }
      if (epoch === this.#epoch) this.#generation = generation;
      return ok(generation);
    }
    if (oddAnswer) return oddAnswer;
    const tried = candidates.map((g) => CPA_ROUTES[g].authFiles).join(' and ');
    return this.#error(
      'no_management_api',
      404,
      `no CPA management API at ${this.#baseUrl} (tried ${tried}); set remote-management.secret-key in CPA's config (without a key every management route is 404) and check the URL`,
    );
  }

  async #request(spec: RequestSpec): Promise<CpaResult<RawAnswer>> {
    await loadWires();
    if (!this.#baseUrl) return this.#send(spec);
    return serverLimiter(this.#baseUrl, this.#maxInFlight)(() => this.#send(spec));
  }

  async #send(spec: RequestSpec): Promise<CpaResult<RawAnswer>> {
    // Checked again after waiting for a slot: a 401 may have arrived meanwhile.
    this.#adoptSharedBreaker();
    if (this.#breaker) return this.#breakerError();
    const epoch = this.#epoch;
    if (!this.#baseUrl) {
      return this.#error('invalid_input', null, 'the server URL is not a valid http(s) URL like http://127.0.0.1:8317');
    }
    if (!this.#key) return this.#error('invalid_input', null, 'no management key configured for this server');
    if (spec.signal?.aborted)
      return this.#error('timeout', null, `${spec.method} ${spec.path} was cancelled before it was sent`);
    const url = new URL(this.#baseUrl + spec.path);
    for (const [k, v] of spec.query ?? []) url.searchParams.append(k, v);
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#key}`, Accept: 'application/json' };
    if (spec.json !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {
        method: spec.method,
        headers,
        body: spec.json === undefined ? undefined : JSON.stringify(spec.json),
        signal: spec.signal
          ? AbortSignal.any([AbortSignal.timeout(spec.timeoutMs ?? this.#timeoutMs), spec.signal])
          : AbortSignal.timeout(spec.timeoutMs ?? this.#timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return this.#error('timeout', null, `${spec.method} ${spec.path} timed out; is the server up and reachable?`);
      }
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      return this.#error('network', null, `cannot reach ${url.origin} (${cause}); check the URL and that CPA runs`);
    }
    if (response.status === 401) {
      if (epoch !== this.#epoch) return this.#error('unauthorized', 401, 'the old management key was rejected');
      this.#openBreaker(`the management key was rejected (401: ${cpaErrorText(text) ?? 'unauthorized'})`);
      return this.#error(
        'unauthorized',
        401,
        `${this.#breaker}; all calls to this server are stopped until its key is changed (CPA bans an IP after 5 bad keys)`,
      );
    }
    if (response.status === 403) {
      const reason = cpaErrorText(text) ?? 'forbidden';
      // A ban answer means any further call only prolongs the ban.
      if (/ban|too many/i.test(reason) && epoch === this.#epoch)
        this.#openBreaker(`the server banned this IP (403: ${reason})`);
      return this.#error(
        'forbidden',
        403,
        `${spec.method} ${spec.path} refused (403: ${reason}); remote management needs allow-remote in CPA's config`,
      );
    }
    return ok({ status: response.status, text });
  }

  #parse<S extends z.ZodType>(text: string, schema: S, what: string): CpaResult<z.infer<S>> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.#error('malformed', null, `${what}: the answer is not JSON (${text.length} bytes)`);
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'top level';
      return this.#error(
        'malformed',
        null,
        `${what}: unexpected answer shape at ${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return ok(result.data);
  }

  #statusError(answer: RawAnswer, what: string): CpaResult<never> {
    const reason = cpaErrorText(answer.text) ?? `HTTP ${answer.status}`;
    const kind: CpaErrorKind =
      answer.status === 404 ? 'not_found' : answer.status === 400 ? 'bad_request' : 'http_error';
    return this.#error(kind, answer.status, `${what} failed (${answer.status}: ${reason})`);
  }

  #openBreaker(reason: string): void {
    if (this.#breaker) return;
    this.#breaker = reason;
    if (this.#baseUrl && this.#key) openSharedBreaker(this.#baseUrl, this.#key, reason);
    try {
      this.#onBreakerOpen?.(reason);
    } catch {
      // persisting the reason is best effort; the breaker is open either way
    }
  }

  #breakerError(): CpaResult<never> {
    return this.#error(
      'breaker_open',
      null,
      `calls stopped: ${this.#breaker}; reconfigure the server's management key`,
    );
  }

  #error(kind: CpaErrorKind, status: number | null, message: string): CpaResult<never> {
    const safe = this.#key ? message.split(this.#key).join('****') : message;
    const error: CpaError = { kind, server: this.#name, status, message: `CPA server "${this.#name}": ${safe}` };
    return { ok: false, error };
  }
}

/**
 * The wire schemas (zod) load with a client's first request, so every answer is parsed with them, and a
 * process that never talks to CPA (a report of local accounts) never loads zod.
 */
let wires: typeof import('./schemas.ts') | null = null;
async function loadWires(): Promise<void> {
  wires ??= await import('./schemas.ts');
}
function wire(): typeof import('./schemas.ts') {
  if (!wires) throw new Error('CPA wire schemas used before the first request');
  return wires;
}

/** CPA's {"error":"…"} text, shortened; null when the body is something else. */
function cpaErrorText(text: string): string | null {
  try {
    const parsed = wire().errorWire.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.error.slice(0, 200);
  } catch {
    // not JSON: fall through
  }
  return null;
}

function toAuthFile(w: AuthFileWire): CpaAuthFile {
  return {
    name: w.name,
    type: w.type ?? null,
    provider: w.provider ?? null,
    authIndex: w.auth_index ?? null,
    email: w.email ?? null,
    account: w.account ?? null,
    label: w.label ?? null,
    accountType: w.account_type ?? null,
    disabled: w.disabled ?? false,
    unavailable: w.unavailable ?? false,
    runtimeOnly: w.runtime_only ?? false,
    status: w.status ?? null,
    statusMessage: w.status_message ?? null,
    source: w.source ?? null,
    path: w.path ?? null,
    modtime: w.modtime ?? null,
    lastRefresh: w.last_refresh ?? null,
    nextRetryAfter: w.next_retry_after ?? null,
  };
}
