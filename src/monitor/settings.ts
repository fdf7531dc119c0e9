// Monitoring settings kept in the store's settings table: the user's price table and the secret for
// API-key hashing (created once, never served).
import { randomBytes } from 'node:crypto';
import type { SettingsRepo } from '../store/settings-repo.ts';
import { DEFAULT_PRICES, type PriceTable, parsePriceTable } from './prices.ts';

const PRICES_KEY = 'monitor.prices';
const SECRET_KEY = 'monitor.key_hash_secret';
const RETENTION_KEY = 'monitor.retention';

export interface RetentionSettings {
  /** Raw events (and their failure rows) are deleted after this many days. */
  rawDays: number;
  minuteRollupDays: number;
  hourRollupDays: number;
}
export const DEFAULT_RETENTION: RetentionSettings = { rawDays: 30, minuteRollupDays: 7, hourRollupDays: 400 };

export async function loadPriceTable(settings: SettingsRepo): Promise<PriceTable> {
  const stored = await settings.get(PRICES_KEY);
  if (stored === undefined) return DEFAULT_PRICES;
  const r = parsePriceTable(stored);
  // A broken stored table must not break the views: fall back and let the settings page show the error.
  return r.ok ? r.table : DEFAULT_PRICES;
}

export async function savePriceTable(
  settings: SettingsRepo,
  input: unknown,
): Promise<{ ok: true; table: PriceTable } | { ok: false; error: string }> {
  const r = parsePriceTable(input);
  if (!r.ok) return r;
  await settings.set(PRICES_KEY, r.table);
  return r;
}

export async function resetPriceTable(settings: SettingsRepo): Promise<void> {
  await settings.delete(PRICES_KEY);
}

export async function keyHashSecret(settings: SettingsRepo): Promise<string> {
  const stored = await settings.get<string>(SECRET_KEY);
  if (typeof stored === 'string' && stored.length >= 32) return stored;
  const secret = randomBytes(32).toString('hex');
  await settings.set(SECRET_KEY, secret);
  // Two processes may race on first start: whoever wrote last wins, and both use the stored one.
  return (await settings.get<string>(SECRET_KEY)) ?? secret;
}

export async function loadRetention(settings: SettingsRepo): Promise<RetentionSettings> {
  const stored = await settings.get<Partial<RetentionSettings>>(RETENTION_KEY);
  return { ...DEFAULT_RETENTION, ...(stored ?? {}) };
}

export async function saveRetention(
  settings: SettingsRepo,
  value: Partial<RetentionSettings>,
): Promise<RetentionSettings> {
  const next = { ...(await loadRetention(settings)), ...value };
  for (const [k, v] of Object.entries(next)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 3650)
      throw new Error(`retention ${k} must be a whole number of days from 1 to 3650, got ${v}`);
  }
  if (next.hourRollupDays < next.rawDays) throw new Error('retention hourRollupDays must be at least rawDays');
  await settings.set(RETENTION_KEY, next);
  return next;
}
