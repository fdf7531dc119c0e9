// Wire shapes of CPA's management answers, validated with zod. Fields CPA may omit are optional;
// anything else CPA adds is ignored. The client maps these to camelCase types in types.ts.
import { z } from 'zod';

const optStr = z.string().nullish();
const optBool = z.boolean().nullish();

export const authFileWire = z.looseObject({
  name: z.string().min(1),
  id: optStr,
  type: optStr,
  provider: optStr,
  auth_index: optStr,
  email: optStr,
  account: optStr,
  label: optStr,
  account_type: optStr,
  disabled: optBool,
  unavailable: optBool,
  runtime_only: optBool,
  status: optStr,
  status_message: optStr,
  source: optStr,
  path: optStr,
  modtime: optStr,
  last_refresh: optStr,
  next_retry_after: optStr,
});
export type AuthFileWire = z.infer<typeof authFileWire>;

/** v0 answers {"files": […]}; the v8 rename may answer {"credentials": […]}: accept both (one is required). */
export const authFileListWire = z
  .looseObject({ files: z.array(authFileWire).optional(), credentials: z.array(authFileWire).optional() })
  .refine((v) => v.files !== undefined || v.credentials !== undefined, 'expected a "files" (or "credentials") array');

export const statusWire = z.looseObject({ status: z.string(), disabled: z.boolean() });

export const deleteWire = z.looseObject({
  status: z.string().nullish(),
  deleted: z.number().int().nonnegative().nullish(),
  files: z.array(z.string()).nullish(),
  failed: z.array(z.looseObject({ name: z.string(), error: z.string().nullish() })).nullish(),
});

export const apiCallWire = z.looseObject({
  status_code: z.number().int(),
  header: z.record(z.string(), z.array(z.string())).nullish(),
  body: z.string().nullish(),
});

/** The usage queue pops a JSON array of records; each record is the monitor room's business. */
export const usageQueueWire = z.array(z.unknown());

/** CPA's error answers look like {"error":"…"}. */
export const errorWire = z.looseObject({ error: z.string() });

/** Only the usage-publishing fields of GET config; everything else (client API keys!) is dropped. */
export const usageConfigWire = z.looseObject({
  'usage-statistics-enabled': z.boolean().nullish(),
  'redis-usage-queue-retention-seconds': z.number().int().nullish(),
});
