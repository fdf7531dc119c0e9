// The one typed definition of the stored settings: each key, the zod schema of what a person may
// change, its default, and whether the store seals it (secret). The core reads and writes settings
// through it; PUT /api/settings and `codex-fleet settings set` validate with the same schema.
import { z } from 'zod';
import { DEFAULT_POLICY_SETTINGS } from '../actions/policy.ts';
import { type InspectionThresholds, type PolicySettings, THRESHOLD_WINDOWS } from '../domain/inspection.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../inspect/inspection.ts';
import type { SettingsRepo } from '../store/settings-repo.ts';
import { MAX_CONCURRENCY } from '../upstream/probe-runner.ts';
import { DEFAULT_NOTIFICATION_SETTINGS, NOTIFY_SETTING, notificationSettingsInput } from './alerting.ts';

const windowThreshold = z
  .object({
    enabled: z.boolean(),
    disableAtUsedPercent: z.number().min(1, 'disableAtUsedPercent is 1-100').max(100, 'disableAtUsedPercent is 1-100'),
  })
  .partial()
  .strict();

const thresholdsInput = z
  .object(
    Object.fromEntries(THRESHOLD_WINDOWS.map((w) => [w, windowThreshold.optional()])) as Record<
      (typeof THRESHOLD_WINDOWS)[number],
      z.ZodOptional<typeof windowThreshold>
    >,
  )
  .strict();

const policyInput = z
  .object({
    autoDisable: z.boolean(),
    autoEnable: z.boolean(),
    autoDelete: z.boolean(),
    deleteConfirmMinutes: z.number().int().min(0).max(43_200, 'deleteConfirmMinutes is at most 30 days'),
  })
  .partial()
  .strict();

const probeConcurrencyInput = z
  .number()
  .int('probeConcurrency is a whole number')
  .min(1, `probeConcurrency is 1-${MAX_CONCURRENCY}`)
  .max(MAX_CONCURRENCY, `probeConcurrency is 1-${MAX_CONCURRENCY}`);

/** One stored setting a person changes: where it lives, what input is valid, its default, whether sealed. */
export interface SettingDefinition<Input extends z.ZodType, Value> {
  key: string;
  input: Input;
  /** null: the resolved config supplies it (probe concurrency falls back to --concurrency / env / 5). */
  default: Value;
  /** Sealed in the store (src/store/secret-box.ts); responses never show the secret parts. */
  secret: boolean;
}

/** Every setting a person changes, from the dashboard or the CLI. */
export const SETTINGS = {
  thresholds: {
    key: 'inspection.thresholds',
    input: thresholdsInput,
    default: DEFAULT_INSPECTION_THRESHOLDS,
    secret: false,
  } satisfies SettingDefinition<typeof thresholdsInput, InspectionThresholds>,
  policy: {
    key: 'actions.policy',
    input: policyInput,
    default: DEFAULT_POLICY_SETTINGS,
    secret: false,
  } satisfies SettingDefinition<typeof policyInput, PolicySettings>,
  // Defined in core/alerting.ts (webhook URLs and the SMTP password are credentials: sealed).
  notifications: {
    key: NOTIFY_SETTING,
    input: notificationSettingsInput,
    default: DEFAULT_NOTIFICATION_SETTINGS,
    secret: true,
  } satisfies SettingDefinition<typeof notificationSettingsInput, typeof DEFAULT_NOTIFICATION_SETTINGS>,
  probeConcurrency: {
    key: 'probe.concurrency',
    input: probeConcurrencyInput,
    default: null,
    secret: false,
  } satisfies SettingDefinition<typeof probeConcurrencyInput, null>,
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

/** A settings change: every part optional; unknown fields are refused (a typo must not be dropped silently). */
export const settingsInput = z
  .object({
    thresholds: SETTINGS.thresholds.input.optional(),
    policy: SETTINGS.policy.input.optional(),
    notifications: SETTINGS.notifications.input.optional(),
    probeConcurrency: SETTINGS.probeConcurrency.input.optional(),
  })
  .strict();
export type SettingsChange = z.infer<typeof settingsInput>;

/** Validates a settings change; the message names each bad field (for the API's 400 and the CLI). */
export function parseSettingsChange(
  body: unknown,
): { ok: true; value: SettingsChange } | { ok: false; message: string } {
  const parsed = settingsInput.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, message: 'settings must be a JSON object' };
  }
  const message = parsed.error.issues
    .map((i) => {
      const at = i.path.join('.');
      if (i.code === 'unrecognized_keys') {
        return `unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => (at ? `${at}.${k}` : k)).join(', ')}`;
      }
      return at ? `${at}: ${i.message}` : i.message;
    })
    .join('; ');
  return { ok: false, message };
}

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
