// Reads quota through the real Codex CLI (`codex app-server`, JSON-RPC over stdio) when HTTP probing is
// blocked. Each probe gets a private CODEX_HOME holding only that account's auth; it is removed when the
// probe ends, however it ends, and stale ones from a crashed process are swept on the next probe.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Credentials } from '../domain/account.ts';
import type { ProbeResult, QuotaSnapshot, QuotaWindow, WindowKind } from '../domain/quota.ts';

export const PROBE_DIR_PREFIX = 'codex-fleet-cli-probe-';
const STALE_DIR_MS = 10 * 60_000;

export interface CodexCliProbeOptions {
  /** The codex binary: CODEX_CLI_BIN, else `codex` on PATH. */
  bin?: string;
  chatgptUrl: string;
  authUrl?: string;
  timeoutMs?: number;
  now?: () => number;
}

export interface CodexCliProbeOutcome extends ProbeResult {
  /** Set when the CLI rotated the tokens during the probe: the caller must persist them. */
  rotatedCredentials: Credentials | null;
}

export function codexCliBin(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODEX_CLI_BIN || 'codex';
}

interface RpcWindow {
  usedPercent?: number | null;
  windowDurationMins?: number | null;
  resetsAt?: number | null;
}
interface RpcRateLimits {
  primary?: RpcWindow | null;
  secondary?: RpcWindow | null;
  credits?: { hasCredits?: boolean | null; unlimited?: boolean | null; balance?: string | null } | null;
  planType?: string | null;
  rateLimitReachedType?: string | null;
}

function kindForMinutes(mins: number | null): WindowKind {
  if (mins == null) return 'other';
  const seconds = mins * 60;
  if (Math.abs(seconds - 18_000) <= 60) return '5h';
  if (Math.abs(seconds - 604_800) <= 60) return 'weekly';
  if (seconds >= 28 * 86_400 && seconds <= 31 * 86_400 + 60) return 'monthly';
  return 'other';
}

function toWindow(w: RpcWindow | null | undefined, scope: 'primary' | 'secondary', now: number): QuotaWindow | null {
  if (!w) return null;
  const used = typeof w.usedPercent === 'number' && Number.isFinite(w.usedPercent) ? Math.min(100, Math.max(0, w.usedPercent)) : null;
  const mins = typeof w.windowDurationMins === 'number' ? w.windowDurationMins : null;
  const resetsAtMs = typeof w.resetsAt === 'number' && w.resetsAt > 0 ? w.resetsAt * 1000 : null;
  return {
    kind: kindForMinutes(mins),
    scope,
    limitName: null,
    usedPercent: used,
    remainingPercent: used == null ? null : 100 - used,
    windowSeconds: mins == null ? null : mins * 60,
    resetAfterSeconds: resetsAtMs == null ? null : Math.max(0, Math.round((resetsAtMs - now) / 1000)),
    resetsAt: resetsAtMs == null ? null : new Date(resetsAtMs).toISOString(),
  };
}

/** The app-server's `account/rateLimits/read` answer as the same normalized snapshot the HTTP probe gives. */
export function snapshotFromRateLimits(result: unknown, now: number): QuotaSnapshot {
  const limits = ((result as { rateLimits?: RpcRateLimits } | null)?.rateLimits ?? {}) as RpcRateLimits;
  const windows = [toWindow(limits.primary, 'primary', now), toWindow(limits.secondary, 'secondary', now)].filter(
    (w): w is QuotaWindow => w !== null,
  );
  const credits = limits.credits ?? null;
  const exhausted = windows.some((w) => w.usedPercent != null && w.usedPercent >= 100);
  return {
    plan: limits.planType ?? null,
    allowed: null,
    limitReached: limits.rateLimitReachedType ? true : exhausted ? true : null,
    rateLimitReachedType: limits.rateLimitReachedType ?? null,
    windows,
    credits: {
      hasCredits: credits?.hasCredits ?? null,
      unlimited: credits?.unlimited ?? null,
      balance: credits?.balance ?? null,
    },
    fetchedAt: new Date(now).toISOString(),
  };
}

/** Removes probe homes left behind by a process that died mid-probe (they may hold tokens). */
export async function sweepStaleProbeDirs(now = Date.now(), base = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith(PROBE_DIR_PREFIX)) continue;
    const path = join(base, name);
    const info = await stat(path).catch(() => null);
    if (info && now - info.mtimeMs > STALE_DIR_MS) {
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}

function authJson(credentials: Credentials): string {
  return JSON.stringify(
    {
      auth_mode: 'chatgpt',
      OPENAI_API_KEY: null,
      tokens: {
        id_token: credentials.idToken,
        access_token: credentials.accessToken,
        refresh_token: credentials.refreshToken,
        account_id: credentials.accountId,
      },
      last_refresh: credentials.lastRefresh ?? new Date().toISOString(),
    },
    null,
    2,
  );
}

function failure(reason: ProbeResult['reason'], message: string, now: number): CodexCliProbeOutcome {
  return {
    state: 'unknown',
    reason,
    httpStatus: null,
    errorCode: null,
    message,
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: true,
    source: 'codex-cli',
    fetchedAt: new Date(now).toISOString(),
    attempts: 1,
    usagePath: null,
    rotatedCredentials: null,
  };
}

/** Classifies the app-server's error text: it carries the upstream status in its message. */
function classifyRpcError(message: string, now: number): CodexCliProbeOutcome {
  const base = failure('unexpected_status', `codex app-server: ${message.split('\n')[0].slice(0, 200)}`, now);
  const status = Number(/\b(4\d\d|5\d\d)\b/.exec(message)?.[1] ?? Number.NaN);
  if (status === 401) return { ...base, state: 'auth_invalid', reason: 'auth_invalid', httpStatus: 401, transient: false };
  if (status === 402) return { ...base, state: 'workspace_deactivated', reason: 'deactivated_workspace', httpStatus: 402, transient: false };
  if (Number.isFinite(status)) return { ...base, httpStatus: status, reason: status >= 500 ? 'server_error' : 'unexpected_status' };
  return base;
}

export async function probeViaCodexCli(credentials: Credentials, options: CodexCliProbeOptions): Promise<CodexCliProbeOutcome> {
  const now = options.now ?? Date.now;
  if (!credentials.accessToken) return { ...failure('no_credentials', 'no access token', now()), transient: false };
  await sweepStaleProbeDirs(now());
  const home = await mkdtemp(join(tmpdir(), PROBE_DIR_PREFIX));
  try {
    const original = authJson(credentials);
    await writeFile(join(home, 'auth.json'), original, { mode: 0o600 });
    const base = options.chatgptUrl.endsWith('/') ? options.chatgptUrl : `${options.chatgptUrl}/`;
    await writeFile(join(home, 'config.toml'), `chatgpt_base_url = ${JSON.stringify(base)}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, CODEX_HOME: home };
    if (options.authUrl) env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = options.authUrl;
    const answer = await callAppServer(options.bin ?? codexCliBin(), env, options.timeoutMs ?? 20_000);
    const rotated = await readRotated(join(home, 'auth.json'), original, credentials);
    if ('error' in answer) return { ...classifyRpcError(answer.error, now()), rotatedCredentials: rotated };
    const snapshot = snapshotFromRateLimits(answer.result, now());
    const exhausted = snapshot.limitReached === true;
    const resetAfter = exhausted
      ? Math.max(...snapshot.windows.filter((w) => (w.usedPercent ?? 0) >= 100).map((w) => w.resetAfterSeconds ?? 0), 0) || null
      : null;
    return {
      state: exhausted ? 'exhausted' : 'ok',
      reason: exhausted ? 'limit_reached' : 'quota_available',
      httpStatus: 200,
      errorCode: snapshot.rateLimitReachedType,
      message: null,
      snapshot,
      resetAfterSeconds: resetAfter,
      retryAfterSeconds: null,
      transient: false,
      source: 'codex-cli',
      fetchedAt: snapshot.fetchedAt,
      attempts: 1,
      usagePath: 'codex app-server account/rateLimits/read',
      rotatedCredentials: rotated,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function readRotated(path: string, original: string, before: Credentials): Promise<Credentials | null> {
  const now = await readFile(path, 'utf8').catch(() => original);
  if (now === original) return null;
  try {
    const t = (JSON.parse(now) as { tokens?: Record<string, string | null>; last_refresh?: string }).tokens ?? {};
    if (!t.refresh_token || t.refresh_token === before.refreshToken) return null;
    return {
      accessToken: t.access_token ?? before.accessToken,
      refreshToken: t.refresh_token,
      idToken: t.id_token ?? before.idToken,
      accountId: t.account_id ?? before.accountId,
      expiresAt: null,
      lastRefresh: (JSON.parse(now) as { last_refresh?: string }).last_refresh ?? null,
    };
  } catch {
    return null;
  }
}

type RpcAnswer = { result: unknown } | { error: string };

function callAppServer(bin: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RpcAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    const child = spawn(bin, ['app-server'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const finish = (answer: RpcAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ error: `timed out after ${timeoutMs} ms` }), timeoutMs);
    child.on('error', (e) => finish({ error: `cannot start ${bin}: ${e.message} (set CODEX_CLI_BIN)` }));
    child.on('exit', (code) => finish({ error: `exited with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}` }));
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: { id?: number; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.id === 0 && msg.result !== undefined) {
        send({ method: 'initialized' });
        send({ id: 1, method: 'account/rateLimits/read', params: {} });
      } else if (msg.id === 0 && msg.error) {
        finish({ error: msg.error.message ?? 'initialize failed' });
      } else if (msg.id === 1) {
        finish(msg.error ? { error: msg.error.message ?? 'rateLimits/read failed' } : { result: msg.result });
      }
    });
    send({
      id: 0,
      method: 'initialize',
      params: { clientInfo: { name: 'codex_fleet', title: 'codex-fleet', version: '0.1.0' }, capabilities: null },
    });
  });
}
