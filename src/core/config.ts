// Resolves the runtime configuration once, from flags over environment over defaults, with clear errors.
// The only module that reads the configuration environment: the upstream and store modules take values.
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS } from '../upstream/http.ts';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../upstream/probe-runner.ts';

export { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, MAX_CONCURRENCY };
export const DEFAULT_CHATGPT_URL = 'https://chatgpt.com/backend-api';
export const DEFAULT_AUTH_URL = 'https://auth.openai.com/oauth/token';

export interface FleetConfig {
  dataDir: string;
  databaseUrl: string | null;
  chatgptUrl: string;
  authUrl: string;
  /** Directory of auth files (any format of UPSTREAM.md §4). */
  accountDir: string;
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

const url = (what: string, envName: string) =>
  z
    .string()
    .refine((s) => /^https?:\/\/[^\s]+$/i.test(s), {
      message: `${what} must be an http(s) URL (flag or ${envName})`,
    })
    .transform((s) => s.replace(/\/+$/, ''));

const intIn = (what: string, min: number, max: number) =>
  z.coerce
    .number({ message: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`);

const schema = z.object({
  chatgptUrl: url('--chatgpt-url', 'CODEX_FLEET_CHATGPT_URL'),
  authUrl: url('--auth-url', 'CODEX_FLEET_AUTH_URL'),
  concurrency: intIn('--concurrency (or CODEX_FLEET_CONCURRENCY)', 1, MAX_CONCURRENCY),
  timeoutMs: intIn('--timeout-ms (or CODEX_AUTH_FETCH_TIMEOUT_MS)', 100, 600_000),
  retries: intIn('--retries', 0, 20),
  retryDelaySeconds: z.coerce
    .number({ message: '--retry-delay must be a number of seconds' })
    .min(0, '--retry-delay must be >= 0')
    .max(300, '--retry-delay must be at most 300 seconds'),
  databaseUrl: z
    .string()
    .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: '--database-url must start with postgres://' })
    .nullable(),
});

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
  const parsed = schema.safeParse({
    chatgptUrl: flags.chatgptUrl ?? env.CODEX_FLEET_CHATGPT_URL ?? DEFAULT_CHATGPT_URL,
    authUrl: flags.authUrl ?? env.CODEX_FLEET_AUTH_URL ?? DEFAULT_AUTH_URL,
    concurrency: flags.concurrency ?? env.CODEX_FLEET_CONCURRENCY ?? DEFAULT_CONCURRENCY,
    timeoutMs: flags.timeoutMs ?? env.CODEX_AUTH_FETCH_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS,
    retries: flags.retries ?? 3,
    retryDelaySeconds: flags.retryDelay ?? 2,
    databaseUrl: resolveStoreLocation(flags, env).databaseUrl,
  });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => i.message).join('; '));
  }
  const v = parsed.data;
  return {
    dataDir: resolveStoreLocation(flags, env).dataDir,
    databaseUrl: v.databaseUrl,
    chatgptUrl: v.chatgptUrl,
    authUrl: v.authUrl,
    accountDir: resolve(flags.accountDir ?? env.CODEX_FLEET_ACCOUNT_DIR ?? 'account'),
    codexHome: flags.codexHome ? resolve(flags.codexHome) : null,
    multiAuthFile: flags.multiAuthFile ? resolve(flags.multiAuthFile) : null,
    concurrency: v.concurrency,
    timeoutMs: v.timeoutMs,
    retries: v.retries,
    retryDelayMs: Math.round(v.retryDelaySeconds * 1000),
  };
}
