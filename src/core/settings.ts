// The one typed definition of the stored settings: each key, its default and whether the store seals it
// (secret); the zod schema of what a person may change is its other half, settings-schema.ts (kept
// apart, like alert-settings-schema.ts, so commands that only read settings never load zod). The core
// reads and writes settings through these; PUT /api/settings and `codex-fleet settings set` validate
// with the same schema (inside FleetService.setSettings).
import {
  DEFAULT_INSPECTION_THRESHOLDS,
  DEFAULT_POLICY_SETTINGS,
  type InspectionThresholds,
  type PolicySettings,
  THRESHOLD_WINDOWS,
} from '../domain/inspection.ts';
import type { SettingsRepo } from '../store/settings-repo.ts';
import { DEFAULT_NOTIFICATION_SETTINGS, NOTIFY_SETTING } from './alerting.ts';
import type { SettingsChange } from './settings-schema.ts';

/** One stored setting a person changes: where it lives, its default, whether sealed (its input schema: settings-schema.ts). */
export interface SettingDefinition<Value> {
  key: string;
  /** null: the resolved config supplies it (probe concurrency falls back to --concurrency / env / 5). */
  default: Value;
  /** Sealed in the store (src/store/secret-box.ts); responses never show the secret parts. */
  secret: boolean;
}

/** Every setting a person changes, from the dashboard or the CLI. */
export const SETTINGS = {
  thresholds: {
    key: 'inspection.thresholds',
    default: DEFAULT_INSPECTION_THRESHOLDS,
    secret: false,
  } satisfies SettingDefinition<InspectionThresholds>,
  policy: {
    key: 'actions.policy',
    default: DEFAULT_POLICY_SETTINGS,
    secret: false,
  } satisfies SettingDefinition<PolicySettings>,
  // Defined in core/alerting.ts (webhook URLs and the SMTP password are credentials: sealed).
  notifications: {
    key: NOTIFY_SETTING,
    default: DEFAULT_NOTIFICATION_SETTINGS,
    secret: true,
  } satisfies SettingDefinition<typeof DEFAULT_NOTIFICATION_SETTINGS>,
  probeConcurrency: {
    key: 'probe.concurrency',
    default: null,
    secret: false,
  } satisfies SettingDefinition<null>,
} as const;

/**
 * Stored state the core keeps for itself (never edited by a person), listed so every key is defined
 * here once. Keys ending in `.` are prefixes (one entry per server, account or alert).
 */
export const INTERNAL_SETTINGS = {
  usagePaths: { key: 'upstream.usagePaths', secret: false },
  cpaUsagePaths: { key: 'upstream.usagePaths.cpa.', secret: false },
  cpaFileDetails: { key: 'cpa.fileDetails.', secret: false },
  cpaServers: { key: 'cpa.servers', secret: true },
  authIndexes: { key: 'doctor.authIndexes', secret: false },
  /** Validated by inspect/schedule.ts scheduleSchema through its own route. */
  schedule: { key: 'inspection.schedule', secret: false },
  scheduleLastSlot: { key: 'inspection.schedule.lastSlot', secret: false },
  lastRefresh: { key: 'quota.lastRefreshAt', secret: false },
  leaderRefreshLastRun: { key: 'leader.quotaRefresh.lastRun', secret: false },
  notifyMemory: { key: 'notify.memory', secret: false },
  notifySent: { key: 'notify.sent.', secret: false },
  planTerms: { key: 'plan.term.', secret: false },
  monitorPrices: { key: 'monitor.prices', secret: false },
  monitorRetention: { key: 'monitor.retention', secret: false },
  monitorKeyHashSecret: { key: 'monitor.key_hash_secret', secret: true },
} as const;

/** The keys the store must seal: checked against src/store/settings-repo.ts SECRET_SETTINGS by a test. */
export const SECRET_SETTING_KEYS: readonly string[] = [...Object.values(SETTINGS), ...Object.values(INTERNAL_SETTINGS)]
  .filter((d) => d.secret)
  .map((d) => d.key);

/** Thresholds and policy as stored, completed with their defaults (older shapes keep working). */
export async function readInspectionSettings(
  settings: SettingsRepo,
): Promise<{ thresholds: InspectionThresholds; policy: PolicySettings }> {
  const thresholds = (await settings.get<Partial<InspectionThresholds>>(SETTINGS.thresholds.key)) ?? {};
  const policy = (await settings.get<Partial<PolicySettings>>(SETTINGS.policy.key)) ?? {};
  return {
    thresholds: { ...SETTINGS.thresholds.default, ...thresholds },
    policy: { ...SETTINGS.policy.default, ...policy },
  };
}

/** The dashboard's probe concurrency; null when never set (the resolved config applies). */
export async function readProbeConcurrency(settings: SettingsRepo): Promise<number | null> {
  return (await settings.get<number>(SETTINGS.probeConcurrency.key)) ?? null;
}

/** Writes the thresholds, policy and probe concurrency of a change, each merged over what is stored. */
export async function writeInspectionSettings(
  settings: SettingsRepo,
  change: Pick<SettingsChange, 'thresholds' | 'policy' | 'probeConcurrency'>,
): Promise<void> {
  const current = await readInspectionSettings(settings);
  if (change.thresholds) {
    const next = { ...current.thresholds };
    for (const w of THRESHOLD_WINDOWS) {
      const part = change.thresholds[w];
      if (part) next[w] = { ...next[w], ...part };
    }
    await settings.set(SETTINGS.thresholds.key, next);
  }
  if (change.policy) await settings.set(SETTINGS.policy.key, { ...current.policy, ...change.policy });
  if (change.probeConcurrency != null) await settings.set(SETTINGS.probeConcurrency.key, change.probeConcurrency);
}
