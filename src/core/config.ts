// Resolves the runtime configuration once, from flags over environment over defaults, with clear errors.
// The only module that reads the configuration environment: the upstream and store modules take values.
import { resolve } from 'node:path';

// Kept equal to upstream/probe-runner.ts and upstream/http.ts (not imported: the CLI starts without them).
export const DEFAULT_CONCURRENCY = 5;
export const MAX_CONCURRENCY = 20;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_CHATGPT_URL = 'https://chatgpt.com/backend-api';
export const DEFAULT_AUTH_URL = 'https://auth.openai.com/oauth/token';

export interface FleetConfig {
  dataDir: string;
  databaseUrl: string | null;
  chatgptUrl: string;
  authUrl: string;
  /** Directory of auth files (any format of UPSTREAM.md §4). */
  accountDir: string;
  /**
   * True when --account-dir or CODEX_FLEET_ACCOUNT_DIR named it: then a missing directory is an error
   * (a typo must not quietly show no accounts); the implicit ./account missing means no local accounts.
   */
  accountDirExplicit: boolean;
  /** A Codex CLI home (--codex-home) read as a source when it holds an auth.json; null to skip. */
  codexHome: string | null;
  /** codex-multi-auth v3 accounts file; null to skip. */
  multiAuthFile: string | null;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
}

/** What a command may pass in: every field optional, strings as typed on the command line. */
export interface ConfigFlags {
  dataDir?: string;
  databaseUrl?: string;
  chatgptUrl?: string;
  authUrl?: string;
  accountDir?: string;
  codexHome?: string;
  multiAuthFile?: string;
  concurrency?: string | number;
  timeoutMs?: string | number;
  retries?: string | number;
  retryDelay?: string | number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Plain checks, not zod: every command resolves the config before it does anything, and loading zod
// cost the cached `report` more start-up time than the rest of its modules (issue 14). Six fields.
type Check<T> = (value: unknown, problems: string[]) => T;

const url =
  (what: string, envName: string): Check<string> =>
  (value, problems) => {
    const s = String(value);
    if (!/^https?:\/\/[^\s]+$/i.test(s)) problems.push(`${what} must be an http(s) URL (flag or ${envName})`);
    return s.replace(/\/+$/, '');
  };

/** Like z.coerce.number(): '' is 0, anything Number() cannot read is not a number. */
const numberIn =
  (what: string, min: number, max: number, tooLow: string, tooHigh: string, int: boolean): Check<number> =>
  (value, problems) => {
    const n = Number(value);
    if (Number.isNaN(n)) problems.push(`${what} must be a number`);
    else if (int && !Number.isInteger(n)) problems.push(`${what} must be a whole number`);
    else if (n < min) problems.push(tooLow);
    else if (n > max) problems.push(tooHigh);
    return n;
  };

const intIn = (what: string, min: number, max: number) =>
  numberIn(what, min, max, `${what} must be at least ${min}`, `${what} must be at most ${max}`, true);

const checks = {
  chatgptUrl: url('--chatgpt-url', 'CODEX_FLEET_CHATGPT_URL'),
  authUrl: url('--auth-url', 'CODEX_FLEET_AUTH_URL'),
  concurrency: intIn('--concurrency (or CODEX_FLEET_CONCURRENCY)', 1, MAX_CONCURRENCY),
  timeoutMs: intIn('--timeout-ms (or CODEX_AUTH_FETCH_TIMEOUT_MS)', 100, 600_000),
  retries: intIn('--retries', 0, 20),
  retryDelaySeconds: numberIn(
    '--retry-delay',
    0,
    300,
    '--retry-delay must be >= 0',
    '--retry-delay must be at most 300 seconds',
    false,
  ),
};

/** Where the store lives, for commands that open only the store (db, cpa, monitor). */
export interface StoreLocation {
  dataDir: string;
  /** postgres://… or sqlite:<path>; null: SQLite in dataDir. */
  databaseUrl: string | null;
}

/** --data-dir over CODEX_FLEET_DATA_DIR over ./data; --database-url over CODEX_FLEET_DATABASE_URL (empty = unset). */
export function resolveStoreLocation(
  flags: { dataDir?: string; databaseUrl?: string },
  env: NodeJS.ProcessEnv = process.env,
): StoreLocation {
  return {
    dataDir: resolve(flags.dataDir || env.CODEX_FLEET_DATA_DIR || 'data'),
    databaseUrl: flags.databaseUrl || env.CODEX_FLEET_DATABASE_URL || null,
  };
}

export function resolveConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): FleetConfig {
  const problems: string[] = [];
  const { dataDir, databaseUrl } = resolveStoreLocation(flags, env);
  const v = {
    chatgptUrl: checks.chatgptUrl(flags.chatgptUrl ?? env.CODEX_FLEET_CHATGPT_URL ?? DEFAULT_CHATGPT_URL, problems),
    authUrl: checks.authUrl(flags.authUrl ?? env.CODEX_FLEET_AUTH_URL ?? DEFAULT_AUTH_URL, problems),
    concurrency: checks.concurrency(flags.concurrency ?? env.CODEX_FLEET_CONCURRENCY ?? DEFAULT_CONCURRENCY, problems),
    timeoutMs: checks.timeoutMs(flags.timeoutMs ?? env.CODEX_AUTH_FETCH_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS, problems),
    retries: checks.retries(flags.retries ?? 3, problems),
    retryDelaySeconds: checks.retryDelaySeconds(flags.retryDelay ?? 2, problems),
    databaseUrl,
  };
  if (databaseUrl != null && !/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push('--database-url must start with postgres://');
  if (problems.length) throw new ConfigError(problems.join('; '));
  return {
    dataDir,
    databaseUrl: v.databaseUrl,
    chatgptUrl: v.chatgptUrl,
    authUrl: v.authUrl,
    accountDir: resolve(flags.accountDir ?? env.CODEX_FLEET_ACCOUNT_DIR ?? 'account'),
    accountDirExplicit: Boolean(flags.accountDir ?? env.CODEX_FLEET_ACCOUNT_DIR),
    codexHome: flags.codexHome ? resolve(flags.codexHome) : null,
    multiAuthFile: flags.multiAuthFile ? resolve(flags.multiAuthFile) : null,
    concurrency: v.concurrency,
    timeoutMs: v.timeoutMs,
    retries: v.retries,
    retryDelayMs: Math.round(v.retryDelaySeconds * 1000),
  };
}
