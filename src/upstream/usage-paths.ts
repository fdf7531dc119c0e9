// Which usage path to call for a base URL. Both /wham/usage and /codex/usage have been broken at
// different times, so we fall back on 403/404 and remember, per base URL, the path that answered.
import { isCloudflareChallenge } from './cloudflare.ts';
import type { HeaderBag } from './response-headers.ts';

export const WHAM_USAGE_PATH = '/wham/usage';
export const CODEX_USAGE_PATH = '/codex/usage';
export const API_CODEX_USAGE_PATH = '/api/codex/usage';

/** Base URL (normalized) → the usage path that last worked. A plain object so a store can persist it. */
export type UsagePathMemory = Record<string, string>;

export function normalizeBaseUrl(base: string): string {
  return base.trim().replace(/\/+$/, '');
}

function defaultPaths(base: string): string[] {
  return normalizeBaseUrl(base).includes('/backend-api') ? [WHAM_USAGE_PATH, CODEX_USAGE_PATH] : [API_CODEX_USAGE_PATH];
}

/** Paths to try in order: the remembered one first, then the defaults for this kind of base. */
export function candidateUsagePaths(base: string, memory?: UsagePathMemory | null): string[] {
  const defaults = defaultPaths(base);
  const remembered = memory?.[normalizeBaseUrl(base)];
  if (!remembered) return defaults;
  return [remembered, ...defaults.filter((p) => p !== remembered)];
}

export function usageUrl(base: string, path: string): string {
  return normalizeBaseUrl(base) + path;
}

/**
 * Whether an answer means "this path is retired, try the next one": 404, or a non-Cloudflare 403.
 * A Cloudflare HTML 403 is about our IP, not the path, so switching paths would not help.
 */
export function shouldTryNextPath(status: number | null, headers: HeaderBag | null, body: string | null): boolean {
  if (status === 404) return true;
  if (status === 403) return !isCloudflareChallenge(status, headers, body);
  return false;
}

export function rememberUsagePath(memory: UsagePathMemory, base: string, path: string): void {
  memory[normalizeBaseUrl(base)] = path;
}
