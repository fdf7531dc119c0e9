// The zod half of the one settings definition (core/settings.ts holds keys, defaults and secrecy): what a
// person may change, per setting. Loaded only when a change arrives, so read-only commands skip zod.
import { z } from 'zod';
import { THRESHOLD_WINDOWS } from '../domain/inspection.ts';
import { notificationSettingsInput } from './alert-settings-schema.ts';
import { MAX_CONCURRENCY } from './config.ts';
import type { SETTINGS } from './settings.ts';

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

/** The input schema of each setting in SETTINGS (the same keys: the compiler checks it). */
export const SETTING_INPUTS = {
  thresholds: thresholdsInput,
  policy: policyInput,
  notifications: notificationSettingsInput,
  probeConcurrency: probeConcurrencyInput,
} as const satisfies Record<keyof typeof SETTINGS, z.ZodType>;

/** A settings change: every part optional; unknown fields are refused (a typo must not be dropped silently). */
export const settingsInput = z
  .object({
    thresholds: SETTING_INPUTS.thresholds.optional(),
    policy: SETTING_INPUTS.policy.optional(),
    notifications: SETTING_INPUTS.notifications.optional(),
    probeConcurrency: SETTING_INPUTS.probeConcurrency.optional(),
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
