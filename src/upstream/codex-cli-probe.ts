// Reads quota through the real Codex CLI (`codex app-server`, JSON-RPC over stdio) when HTTP probing is
// blocked. Each probe gets a private CODEX_HOME holding only that account's auth; it is removed when the
// probe ends, however it ends, and stale ones from a crashed process are swept on the next probe.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Credentials } from '../domain/account.ts';
import type { ProbeResult, QuotaSnapshot, QuotaWindow, WindowScope } from '../domain/quota.ts';
import { classifyUpstreamAnswer, planFromErrorBody } from './classify.ts';
import { isJwtExpired } from './jwt.ts';
import { sanitizeMessage } from './sanitize.ts';
import { windowKindOfMinutes } from './window-kind.ts';

export const PROBE_DIR_PREFIX = 'codex-fleet-cli-probe-';
const STALE_DIR_MS = 10 * 60_000;

export interface CodexCliProbeOptions {
  /** The codex binary: CODEX_CLI_BIN, else `codex` on PATH. */
  bin?: string;
  chatgptUrl: string;
  authUrl?: string;
  timeoutMs?: number;
  now?: () => number;
  /** Where probe homes are made (default the OS temp dir); tests use their own to check clean-up. */
  tempDir?: string;
  /**
   * false for read-only commands: the CLI's token refresh is pointed at a port nothing listens on, so
   * it can never spend the single-use refresh token; an expired token then reads as auth_expired,
   * exactly as over HTTP. Default true (the CLI refreshes and the caller persists rotatedCredentials).
   */
  allowTokenRefresh?: boolean;
}

/** Port 0 cannot be connected to: the CLI's refresh fails at once, without leaving the machine. */
const REFRESH_DISABLED_URL = 'http://127.0.0.1:0/oauth/token';

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
  limitId?: string | null;
  limitName?: string | null;
  primary?: RpcWindow | null;
  secondary?: RpcWindow | null;
  credits?: { hasCredits?: boolean | null; unlimited?: boolean | null; balance?: string | null } | null;
  planType?: string | null;
  rateLimitReachedType?: string | null;
  /** app-server v2 SpendControlLimitSnapshot (codex-rs app-server-protocol): the member's budget. */
  individualLimit?: {
    limit?: string;
    used?: string;
    remainingPercent?: number | null;
    resetsAt?: number | null;
  } | null;
  spendControlReached?: boolean | null;
}

/** The CLI's individual spend budget as a spend_control window (it gives remaining %, not used %). */
function spendWindow(limit: RpcRateLimits['individualLimit'], now: number): QuotaWindow | null {
  if (!limit) return null;
  const left = typeof limit.remainingPercent === 'number' ? Math.min(100, Math.max(0, limit.remainingPercent)) : null;
  const resetsAtMs = typeof limit.resetsAt === 'number' && limit.resetsAt > 0 ? limit.resetsAt * 1000 : null;
  return {
    kind: 'other',
    scope: 'spend_control',
    limitName: 'individual',
    usedPercent: left == null ? null : 100 - left,
    remainingPercent: left,
    windowSeconds: null,
    resetAfterSeconds: resetsAtMs == null ? null : Math.max(0, Math.round((resetsAtMs - now) / 1000)),
    resetsAt: resetsAtMs == null ? null : new Date(resetsAtMs).toISOString(),
  };
}

function toWindow(
  w: RpcWindow | null | undefined,
  scope: WindowScope,
  now: number,
  limitName: string | null = null,
): QuotaWindow | null {
  if (!w) return null;
  const used =
    typeof w.usedPercent === 'number' && Number.isFinite(w.usedPercent)
      ? Math.min(100, Math.max(0, w.usedPercent))
      : null;
  const mins = typeof w.windowDurationMins === 'number' ? w.windowDurationMins : null;
  const resetsAtMs = typeof w.resetsAt === 'number' && w.resetsAt > 0 ? w.resetsAt * 1000 : null;
  return {
    kind: windowKindOfMinutes(mins),
    scope,
    limitName,
    usedPercent: used,
    remainingPercent: used == null ? null : 100 - used,
    windowSeconds: mins == null ? null : mins * 60,
    resetAfterSeconds: resetsAtMs == null ? null : Math.max(0, Math.round((resetsAtMs - now) / 1000)),
    resetsAt: resetsAtMs == null ? null : new Date(resetsAtMs).toISOString(),
  };
}

/**
 * The app-server's `account/rateLimits/read` answer as the same normalized snapshot the HTTP probe gives.
 * Additional limits come from `rateLimitsByLimitId`; the CLI does not expose the code-review limit.
 * Window durations arrive in whole minutes (ceil of the seconds), and resets as `reset_at` seconds.
 */
export function snapshotFromRateLimits(result: unknown, now: number): QuotaSnapshot {
  const answer = (result ?? {}) as { rateLimits?: RpcRateLimits; rateLimitsByLimitId?: Record<string, RpcRateLimits> };
  const limits = answer.rateLimits ?? {};
  const windows = [toWindow(limits.primary, 'primary', now), toWindow(limits.secondary, 'secondary', now)].filter(
    (w): w is QuotaWindow => w !== null,
  );
  const mainId = limits.limitId ?? 'codex';
  for (const [id, extra] of Object.entries(answer.rateLimitsByLimitId ?? {})) {
    if (id === mainId || !extra) continue;
    const name = extra.limitName ?? id;
    for (const w of [
      toWindow(extra.primary, 'additional', now, name),
      toWindow(extra.secondary, 'additional', now, name),
    ])
      if (w) windows.push(w);
  }
  const spend = spendWindow(limits.individualLimit, now);
  if (spend) windows.push(spend);
  const credits = limits.credits ?? null;
  const reachedType = limits.rateLimitReachedType ?? null;
  const main = windows.filter((w) => w.scope === 'primary' || w.scope === 'secondary');
  const full = main.some((w) => w.usedPercent != null && w.usedPercent >= 100);
  return {
    plan: limits.planType ?? null,
    allowed: null,
    // The CLI hides allowed/limit_reached. Its reached type marks the limit as reached only next to a full
    // window; alone it is evidence, as over HTTP with allowed true (UPSTREAM.md §2).
    limitReached: reachedType && full ? true : null,
    rateLimitReachedType: reachedType,
    // A decoded answer (it always names the plan) with no primary and no secondary: the CLI's rendering
    // of `rate_limit: null` (no windows apply). An empty or missing answer says nothing.
    ...(typeof limits.planType === 'string' && limits.primary == null && limits.secondary == null
      ? { windowless: true }
      : {}),
    ...(typeof limits.spendControlReached === 'boolean' ? { spendControlReached: limits.spendControlReached } : {}),
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

function failure(
  reason: ProbeResult['reason'],
  message: string,
  now: number,
  extra: Partial<ProbeResult> = {},
): CodexCliProbeOutcome {
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
    ...extra,
  };
}

/** What the app-server's error text says about the upstream answer, or why no answer came. */
export type AppServerError =
  | { kind: 'http'; status: number; contentType: string | null; body: string }
  /** The CLI could not decode a 200 answer (it is stricter than codex-fleet: floats, ms times, nulls). */
  | { kind: 'decode'; contentType: string | null; body: string }
  | { kind: 'other'; message: string };

const HTTP_ERROR =
  /failed to fetch codex rate limits: \S+ \S+ failed: (\d{3})\b[^;]*; content-type=(.*?); body=([\s\S]*)$/;
const DECODE_ERROR =
  /failed to fetch codex rate limits: Decode error for \S+: [^;]*; content-type=(.*?); body=([\s\S]*)$/;

/**
 * Parses `failed to fetch codex rate limits: GET <url> failed: <status> <text>; content-type=…; body=<body>`
 * (codex 0.169.0). The body stays in memory for the classifier only: it never reaches a message.
 */
export function parseAppServerError(message: string): AppServerError {
  const http = HTTP_ERROR.exec(message);
  if (http) return { kind: 'http', status: Number(http[1]), contentType: http[2] || null, body: http[3] };
  const decode = DECODE_ERROR.exec(message);
  if (decode) return { kind: 'decode', contentType: decode[1] || null, body: decode[2] };
  return { kind: 'other', message };
}

/** A one-line message with URLs and secrets removed: app-server texts name the request URL. */
export function sanitizeCliMessage(text: string): string {
  const firstLine = text
    .split('\n')[0]
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/; body=.*$/, '');
  return sanitizeMessage(firstLine) ?? 'codex app-server failed';
}

/** Classifies the app-server's error the same way as an HTTP probe's answer (UPSTREAM.md §2). */
export function classifyAppServerError(message: string, accessToken: string | null, now: number): CodexCliProbeOutcome {
  const parsed = parseAppServerError(message);
  if (parsed.kind === 'other') {
    return failure('unexpected_status', `codex app-server: ${sanitizeCliMessage(parsed.message)}`, now);
  }
  const status = parsed.kind === 'http' ? parsed.status : 200;
  const cls = classifyUpstreamAnswer({
    status,
    headers: parsed.contentType ? { 'content-type': parsed.contentType } : null,
    body: parsed.body,
    tokenExpired: isJwtExpired(accessToken, now),
    now,
  });
  let snapshot = cls.snapshot;
  if (!snapshot && cls.state === 'exhausted') {
    // A 429 usage_limit_reached names the plan but carries no windows: keep what it tells, as the HTTP probe does.
    snapshot = {
      plan: planFromErrorBody(parsed.body),
      allowed: false,
      limitReached: true,
      rateLimitReachedType: cls.errorCode,
      windows: [],
      credits: { hasCredits: null, unlimited: null, balance: null },
      fetchedAt: new Date(now).toISOString(),
    };
  }
  return failure(cls.reason, cls.message ?? (cls.state === 'ok' ? '' : `HTTP ${status}`), now, {
    state: cls.state,
    httpStatus: status,
    errorCode: cls.errorCode,
    snapshot,
    resetAfterSeconds: cls.resetAfterSeconds,
    retryAfterSeconds: cls.retryAfterSeconds,
    transient: cls.transient,
    usagePath: USAGE_PATH_LABEL,
    ...(cls.state === 'ok' ? { message: null } : {}),
  });
}

const USAGE_PATH_LABEL = 'codex app-server account/rateLimits/read';

/** Probe homes in use by this process: removed on a normal exit too (a SIGKILL leaves them to the sweep). */
const liveHomes = new Set<string>();
let exitHookInstalled = false;
function trackHome(home: string): void {
  liveHomes.add(home);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dir of liveHomes) rmSync(dir, { recursive: true, force: true });
  });
}

export async function probeViaCodexCli(
  credentials: Credentials,
  options: CodexCliProbeOptions,
): Promise<CodexCliProbeOutcome> {
  const now = options.now ?? Date.now;
  if (!credentials.accessToken) {
    return failure('no_credentials', 'no access token for this account', now(), {
      state: 'auth_invalid',
      transient: false,
    });
  }
  const base = options.tempDir ?? tmpdir();
  await sweepStaleProbeDirs(now(), base);
  const home = await mkdtemp(join(base, PROBE_DIR_PREFIX));
  trackHome(home);
  try {
    const original = authJson(credentials);
    await writeFile(join(home, 'auth.json'), original, { mode: 0o600 });
    const chatgpt = options.chatgptUrl.endsWith('/') ? options.chatgptUrl : `${options.chatgptUrl}/`;
    await writeFile(join(home, 'config.toml'), `chatgpt_base_url = ${JSON.stringify(chatgpt)}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, CODEX_HOME: home };
    if (options.allowTokenRefresh === false) env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = REFRESH_DISABLED_URL;
    else if (options.authUrl) env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = options.authUrl;
    // The answer's time is when its line arrived, not after the child was reaped (that can take seconds).
    let answeredAt = 0;
    const answer = await callAppServer(options.bin ?? codexCliBin(), env, options.timeoutMs ?? 20_000, () => {
      answeredAt = now();
    });
    const at = () => answeredAt || now();
    const rotated = await readRotated(join(home, 'auth.json'), original, credentials);
    if ('error' in answer) {
      const failed =
        answer.error === TIMED_OUT
          ? failure('timeout', `codex app-server did not answer within ${options.timeoutMs ?? 20_000} ms`, at())
          : classifyAppServerError(answer.error, rotated?.accessToken ?? credentials.accessToken, at());
      return { ...failed, rotatedCredentials: rotated };
    }
    const snapshot = snapshotFromRateLimits(answer.result, at());
    const cls = classifyUpstreamAnswer({ status: 200, snapshot, now: at() });
    return {
      state: cls.state,
      reason: cls.reason,
      httpStatus: 200,
      errorCode: cls.errorCode,
      message: cls.message,
      snapshot,
      resetAfterSeconds: cls.resetAfterSeconds,
      retryAfterSeconds: null,
      transient: cls.transient,
      source: 'codex-cli',
      fetchedAt: snapshot.fetchedAt,
      attempts: 1,
      usagePath: USAGE_PATH_LABEL,
      rotatedCredentials: rotated,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
    liveHomes.delete(home);
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

const TIMED_OUT = '\u0000timed out';
/** How long a child gets after SIGTERM before SIGKILL, and after SIGKILL before we stop waiting. */
const KILL_GRACE_MS = 1500;

/**
 * Runs one `account/rateLimits/read` and resolves only once the child has exited (or could not be
 * reaped after SIGKILL), so the private home is never removed under a still-running CLI.
 */
function callAppServer(
  bin: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onSettled: () => void,
): Promise<RpcAnswer> {
  return new Promise((resolve) => {
    let answer: RpcAnswer | null = null;
    let exited = false;
    let stderr = '';
    let done = false;
    const child = spawn(bin, ['app-server'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const resolveOnce = () => {
      if (done || !answer) return;
      done = true;
      resolve(answer);
    };
    const settle = (a: RpcAnswer) => {
      if (answer) return;
      answer = a;
      onSettled();
      clearTimeout(timer);
      if (exited) return resolveOnce();
      child.stdin.end();
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
        setTimeout(resolveOnce, KILL_GRACE_MS).unref();
      }, KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => settle({ error: TIMED_OUT }), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      exited = true;
      const why = e.code === 'ENOENT' ? 'not found' : (e.code ?? 'failed');
      settle({ error: `cannot start the Codex CLI (${why}): install @openai/codex or set CODEX_CLI_BIN` });
      resolveOnce();
    });
    child.on('exit', (code, signal) => {
      exited = true;
      const last = stderr.trim().split('\n').pop() ?? '';
      settle({ error: `codex app-server exited (${signal ?? `code ${code}`}) before answering: ${last}` });
      resolveOnce();
    });
    child.stdin.on('error', () => {
      // The child died before reading: its exit event carries the story.
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    const send = (msg: unknown) => {
      if (!child.stdin.writable) return;
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    };
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
        settle({ error: msg.error.message ?? 'initialize failed' });
      } else if (msg.id === 1) {
        settle(msg.error ? { error: msg.error.message ?? 'rateLimits/read failed' } : { result: msg.result });
      }
    });
    send({
      id: 0,
      method: 'initialize',
      params: { clientInfo: { name: 'codex_fleet', title: 'codex-fleet', version: '0.1.0' }, capabilities: null },
    });
  });
}
