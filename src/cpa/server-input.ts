// What an operator may enter for a CPA server (CLI `cpa add`, the Settings page), checked with zod for
// clear messages. Loaded only when a change arrives: a read-only command never pays for zod.
import { z } from 'zod';
import { normalizeCpaUrl } from './client.ts';

const nameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'name: 1-64 letters, digits, . _ - (starting with a letter or digit)');
const urlSchema = z
  .string()
  .trim()
  .refine((u) => normalizeCpaUrl(u) !== null, 'url: an http(s) URL such as http://127.0.0.1:8317, without credentials');
const keySchema = z.string().trim().min(1, 'managementKey: must not be empty').max(1024);

/** Adding needs all three; editing may omit the key to keep the stored one. */
export const cpaServerInputSchema = z.strictObject({
  name: nameSchema,
  url: urlSchema,
  managementKey: keySchema.optional(),
});
export type CpaServerInput = z.input<typeof cpaServerInputSchema>;
