// CPA management API emulation for the simulator, in BOTH route generations (v0 and the v8 names,
// which the real v7.2 build lacks). Behaviour follows what was confirmed against the real server
// (../shared/cpa/README.md): bearer or X-Management-Key auth, 5 failed keys ban the IP for 30 minutes,
// filters on list, 207 partial deletes, api-call with $TOKEN$ and array header values, a destructive
// usage queue. Mount with `startSimulator({ extraRoutes: (app) => mountCpaEmulation(app, state) })`.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { authIndexFor } from '../cpa/auth-index.ts';
import { CPA_ROUTES, type CpaGeneration } from '../cpa/routes.ts';

export interface CpaEmulationOptions {
  managementKey: string;
  /** Absolute auth dir the emulated files claim to live in (auth_index is derived from it). */
  authDir?: string;
  generations?: readonly CpaGeneration[];
  maxFailedAuth?: number;
  banSeconds?: number;
  clock?: () => number;
  /** How api-call reaches upstream (default: global fetch). */
  fetch?: typeof fetch;
  /** What GET config reports (defaults: publishing on, 3600 s retention, as ../shared/cpa/start.sh sets). */
  usageStatisticsEnabled?: boolean;
  retentionSeconds?: number;
}

interface EmulatedFile {
  content: Record<string, unknown>;
  modtime: number;
}

export interface CpaEmulationStats {
  requests: number;
  failedAuth: number;
  bannedAnswers: number;
  apiCalls: number;
}

export interface CpaEmulationState {
  managementKey: string;
  readonly authDir: string;
  readonly generations: readonly CpaGeneration[];
  readonly stats: CpaEmulationStats;
  /** Mutable: what GET config reports about usage publishing. */
  usageConfig: { usageStatisticsEnabled: boolean; retentionSeconds: number };
  /** Adds or replaces an auth file (content as it would be on disk). Returns its auth_index. */
  putAuthFile(name: string, content: Record<string, unknown>): string;
  /** The file's current content (after PATCH status it carries "disabled"), or null. */
  authFile(name: string): Record<string, unknown> | null;
  authFileNames(): string[];
  pushUsage(...records: Array<Record<string, unknown>>): void;
  usageQueueLength(): number;
  isBanned(ip: string): boolean;
}

interface InternalState extends CpaEmulationState {
  files: Map<string, EmulatedFile>;
  queue: Array<Record<string, unknown>>;
  failures: Map<string, number>;
  bannedUntil: Map<string, number>;
  maxFailedAuth: number;
  banMs: number;
  clock: () => number;
  fetch: typeof fetch;
}

export function createCpaEmulationState(options: CpaEmulationOptions): CpaEmulationState {
  if (!options.managementKey)
    throw new Error('CPA emulation needs a management key (CPA 404s every route without one)');
  const files = new Map<string, EmulatedFile>();
  const queue: Array<Record<string, unknown>> = [];
  const clock = options.clock ?? Date.now;
  const bannedUntil = new Map<string, number>();
  const state: InternalState = {
    managementKey: options.managementKey,
    authDir: (options.authDir ?? '/cpa-emulation/auths').replace(/\/+$/, ''),
    generations: options.generations ?? ['v0', 'v8'],
    stats: { requests: 0, failedAuth: 0, bannedAnswers: 0, apiCalls: 0 },
    usageConfig: {
      usageStatisticsEnabled: options.usageStatisticsEnabled ?? true,
      retentionSeconds: options.retentionSeconds ?? 3600,
    },
    files,
    queue,
    failures: new Map(),
    bannedUntil,
    maxFailedAuth: options.maxFailedAuth ?? 5,
    banMs: (options.banSeconds ?? 1800) * 1000,
    clock,
    fetch: options.fetch ?? fetch,
    putAuthFile(name, content) {
      files.set(name, { content: { ...content }, modtime: clock() });
      return authIndexFor(String(content.type ?? 'codex'), `${state.authDir}/${name}`);
    },
    authFile: (name) => {
      const f = files.get(name);
      return f ? { ...f.content } : null;
    },
    authFileNames: () => [...files.keys()],
    pushUsage: (...records) => {
      queue.push(...records);
    },
    usageQueueLength: () => queue.length,
    isBanned: (ip) => (bannedUntil.get(ip) ?? 0) > clock(),
  };
  return state;
}

function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function presentedKey(c: Context): string | null {
  const auth = c.req.header('authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return c.req.header('x-management-key')?.trim() || null;
}

function fileView(s: InternalState, name: string, f: EmulatedFile): Record<string, unknown> {
  const type = String(f.content.type ?? 'codex');
  const disabled = f.content.disabled === true;
  const email = typeof f.content.email === 'string' ? f.content.email : undefined;
  const path = `${s.authDir}/${name}`;
  return {
    id: name,
    name,
    type,
    provider: type,
    auth_index: authIndexFor(type, path),
    email,
    account: email,
    label: email ?? name,
    account_type: 'oauth',
    disabled,
    unavailable: false,
    runtime_only: false,
    status: disabled ? 'disabled' : 'active',
    status_message: '',
    source: 'file',
    path,
    size: JSON.stringify(f.content).length,
    modtime: new Date(f.modtime).toISOString(),
    success: 0,
    failed: 0,
    recent_requests: [],
  };
}

function findByAuthIndex(s: InternalState, authIndex: string): EmulatedFile | null {
  for (const [name, f] of s.files) {
    if (authIndexFor(String(f.content.type ?? 'codex'), `${s.authDir}/${name}`) === authIndex) return f;
  }
  return null;
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const body = await c.req.json();
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function mountCpaEmulation(app: Hono, stateIn: CpaEmulationState): void {
  const s = stateIn as InternalState;
  for (const generation of s.generations) {
    const routes = CPA_ROUTES[generation];
    const base = generation === 'v0' ? '/v0/management' : '/v8/management';

    // Same order as CPA: a banned IP is refused before the key is even looked at.
    app.use(`${base}/*`, async (c, next) => {
      s.stats.requests++;
      const ip = clientIp(c);
      const until = s.bannedUntil.get(ip) ?? 0;
      if (until > s.clock()) {
        s.stats.bannedAnswers++;
        const minutes = Math.ceil((until - s.clock()) / 60_000);
        return c.json({ error: `IP banned due to too many failed attempts. Try again in ${minutes} minutes` }, 403);
      }
      const key = presentedKey(c);
      if (key !== s.managementKey) {
        s.stats.failedAuth++;
        const count = (s.failures.get(ip) ?? 0) + 1;
        s.failures.set(ip, count);
        if (count >= s.maxFailedAuth) {
          s.bannedUntil.set(ip, s.clock() + s.banMs);
          s.failures.delete(ip);
        }
        return c.json({ error: key ? 'invalid management key' : 'missing management key' }, 401);
      }
      s.failures.delete(ip);
      await next();
    });

    app.get(routes.authFiles, (c) => {
      const name = c.req.query('name');
      const authIndex = c.req.query('auth_index');
      const files = [...s.files.entries()]
        .map(([n, f]) => fileView(s, n, f))
        .filter((f) => (!name || f.name === name) && (!authIndex || f.auth_index === authIndex));
      return c.json({ files });
    });

    app.patch(routes.authFileStatus, async (c) => {
      const body = await jsonBody(c);
      if (!body || typeof body.name !== 'string' || typeof body.disabled !== 'boolean') {
        return c.json({ error: 'invalid request: need name and disabled' }, 400);
      }
      const file = s.files.get(body.name);
      if (!file) return c.json({ error: 'auth file not found' }, 404);
      file.content.disabled = body.disabled;
      file.modtime = s.clock();
      return c.json({ status: 'ok', disabled: body.disabled });
    });

    app.delete(routes.authFiles, async (c) => {
      let names = c.req.queries('name') ?? [];
      if (names.length === 0) {
        const body = await jsonBody(c);
        names = Array.isArray(body?.names) ? body.names.filter((n): n is string => typeof n === 'string') : [];
      }
      if (names.length === 0) return c.json({ error: 'no auth file names given' }, 400);
      const deleted: string[] = [];
      const failed: Array<{ name: string; error: string }> = [];
      for (const name of names) {
        if (s.files.delete(name)) deleted.push(name);
        else failed.push({ name, error: 'auth file not found' });
      }
      if (deleted.length === 0) return c.json({ error: 'auth file not found' }, 404);
      if (failed.length > 0) return c.json({ status: 'partial', deleted: deleted.length, files: deleted, failed }, 207);
      return c.json({ status: 'ok', deleted: deleted.length, files: deleted });
    });

    app.get(routes.authFileDownload, (c) => {
      const name = c.req.query('name');
      const file = name ? s.files.get(name) : undefined;
      if (!name || !file) return c.json({ error: 'file not found' }, 404);
      return c.body(JSON.stringify(file.content), 200, {
        'Content-Type': 'application/json',
        'Content-Disposition': `attachment; filename="${name}"`,
      });
    });

    app.post(routes.apiCall, async (c) => {
      s.stats.apiCalls++;
      const body = await jsonBody(c);
      if (!body) return c.json({ error: 'invalid JSON body' }, 400);
      if (typeof body.method !== 'string' || !body.method) return c.json({ error: 'missing method' }, 400);
      if (typeof body.url !== 'string' || !body.url) return c.json({ error: 'missing url' }, 400);
      // $TOKEN$ is only replaced for a known auth_index; otherwise the literal text goes upstream (as CPA does).
      const file = typeof body.auth_index === 'string' ? findByAuthIndex(s, body.auth_index) : null;
      const token = file && typeof file.content.access_token === 'string' ? file.content.access_token : null;
      const headers = new Headers();
      const given = body.header && typeof body.header === 'object' ? (body.header as Record<string, unknown>) : {};
      for (const [k, v] of Object.entries(given)) {
        if (typeof v !== 'string') continue;
        headers.set(k, token ? v.split('$TOKEN$').join(token) : v);
      }
      let answer: Response;
      let text: string;
      try {
        answer = await s.fetch(body.url, {
          method: body.method.toUpperCase(),
          headers,
          body: typeof body.data === 'string' && body.data !== '' ? body.data : undefined,
          signal: AbortSignal.timeout(60_000),
        });
        text = await answer.text();
      } catch {
        return c.json({ error: 'request failed' }, 502);
      }
      const header: Record<string, string[]> = {};
      answer.headers.forEach((value, name) => {
        const canonical = name.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
        // CPA hands over Go's []string. fetch has already joined repeats with ", ", which cannot be
        // split back safely (Date contains ", "), so one value per name, except Set-Cookie.
        header[canonical] = name === 'set-cookie' ? answer.headers.getSetCookie() : [value];
      });
      return c.json({ status_code: answer.status, header, body: text });
    });

    // Like the real config answer, it carries client API keys: the client must read only the usage fields.
    app.get(routes.config, (c) =>
      c.json({
        'api-keys': ['emulated-client-key-secret'],
        'usage-statistics-enabled': s.usageConfig.usageStatisticsEnabled,
        'redis-usage-queue-retention-seconds': s.usageConfig.retentionSeconds,
        debug: false,
      }),
    );

    app.get(routes.usageQueue, (c) => {
      const raw = c.req.query('count') ?? '1';
      const count = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(count) || count < 1) {
        return c.json({ error: 'count must be a positive integer' }, 400);
      }
      return c.json(s.queue.splice(0, count));
    });
  }
}
