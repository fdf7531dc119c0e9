// When a probe may be answered from the last result instead of the network, plus a JSON-file cache
// the `quota` command uses until the SQLite store lands. Exhausted accounts are not probed again
// before their reset: the answer cannot change, and every probe counts against Cloudflare's limit.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ProbeResult } from '../domain/quota.ts';
import type { UsagePathMemory } from './usage-paths.ts';

export const DEFAULT_CACHE_TTL_MS = 60_000;

export type CacheDecision =
  | { useCache: true; reason: 'exhausted_until_reset' | 'fresh'; validUntil: number }
  | { useCache: false; reason: 'no_entry' | 'transient_failure' | 'expired' | 'reset_passed' | 'bad_timestamp' };

export function cacheDecision(last: ProbeResult | null, now: number, ttlMs = DEFAULT_CACHE_TTL_MS): CacheDecision {
  if (!last) return { useCache: false, reason: 'no_entry' };
  // A failure that says nothing about the account is no answer: ask again.
  if (last.transient) return { useCache: false, reason: 'transient_failure' };
  const fetchedAt = Date.parse(last.fetchedAt);
  if (!Number.isFinite(fetchedAt) || fetchedAt > now + 60_000) return { useCache: false, reason: 'bad_timestamp' };
  if (last.state === 'exhausted' && last.resetAfterSeconds != null) {
    const resetAt = fetchedAt + last.resetAfterSeconds * 1000;
    if (now < resetAt) return { useCache: true, reason: 'exhausted_until_reset', validUntil: resetAt };
    return { useCache: false, reason: 'reset_passed' };
  }
  const validUntil = fetchedAt + Math.max(0, ttlMs);
  if (now < validUntil) return { useCache: true, reason: 'fresh', validUntil };
  return { useCache: false, reason: 'expired' };
}

/** A cached result as shown now: source `cache`, countdowns shortened by the time since it was fetched. */
export function asCachedResult(result: ProbeResult, now: number): ProbeResult {
  const elapsed = Math.max(0, (now - Date.parse(result.fetchedAt)) / 1000);
  const shorten = (s: number | null) =>
    s == null || !Number.isFinite(elapsed) ? s : Math.max(0, Math.round(s - elapsed));
  const snapshot = result.snapshot && {
    ...result.snapshot,
    windows: result.snapshot.windows.map((w) => ({ ...w, resetAfterSeconds: shorten(w.resetAfterSeconds) })),
  };
  return {
    ...result,
    source: 'cache',
    snapshot,
    resetAfterSeconds: shorten(result.resetAfterSeconds),
  };
}

export interface QuotaCache {
  get(key: string): ProbeResult | null;
  set(key: string, result: ProbeResult): void;
  /** Usage path per base URL, shared with the probes. */
  readonly usagePaths: UsagePathMemory;
  save(): Promise<void>;
}

interface CacheFile {
  version: 1;
  results: Record<string, ProbeResult>;
  usagePaths: UsagePathMemory;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeResult(value: unknown): value is ProbeResult {
  return isRecord(value) && typeof value.state === 'string' && typeof value.fetchedAt === 'string';
}

/** Writes via a temp file + fsync + rename, so a crash never leaves a half-written cache. */
async function writeAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}

/** A JSON file of the last result per account. Raw answers are never stored. */
export class FileQuotaCache implements QuotaCache {
  readonly path: string;
  readonly usagePaths: UsagePathMemory;
  private readonly results: Map<string, ProbeResult>;

  private constructor(path: string, file: CacheFile) {
    this.path = path;
    this.usagePaths = file.usagePaths;
    this.results = new Map(Object.entries(file.results));
  }

  /** Opens the cache; a missing or corrupt file starts empty (a cache is never worth failing over). */
  static async open(path: string): Promise<FileQuotaCache> {
    const empty: CacheFile = { version: 1, results: {}, usagePaths: {} };
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return new FileQuotaCache(path, empty);
    }
    try {
      const json: unknown = JSON.parse(text);
      if (!isRecord(json) || json.version !== 1) return new FileQuotaCache(path, empty);
      const results: Record<string, ProbeResult> = {};
      if (isRecord(json.results)) {
        for (const [key, value] of Object.entries(json.results)) if (looksLikeResult(value)) results[key] = value;
      }
      const usagePaths: UsagePathMemory = {};
      if (isRecord(json.usagePaths)) {
        for (const [base, p] of Object.entries(json.usagePaths)) if (typeof p === 'string') usagePaths[base] = p;
      }
      return new FileQuotaCache(path, { version: 1, results, usagePaths });
    } catch {
      return new FileQuotaCache(path, empty);
    }
  }

  get(key: string): ProbeResult | null {
    return this.results.get(key) ?? null;
  }

  /** A transient failure never replaces a known answer: it says nothing about the account. */
  set(key: string, result: ProbeResult): void {
    const { raw: _raw, ...kept } = result as ProbeResult & { raw?: unknown };
    const previous = this.results.get(key);
    if (kept.transient && previous && !previous.transient) return;
    this.results.set(key, kept);
  }

  async save(): Promise<void> {
    const file: CacheFile = { version: 1, results: Object.fromEntries(this.results), usagePaths: this.usagePaths };
    await writeAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
