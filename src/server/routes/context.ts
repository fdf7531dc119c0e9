// What every route group receives, and the small helpers they share.
import type { Context } from 'hono';
import { z } from 'zod';
import { AUTH_FILE_NAME, AUTH_FILE_NAME_RULE } from '../../accounts/manage.ts';
import type { Clock } from '../../domain/time.ts';
import type { EventHub } from '../event-hub.ts';
import type { AuthVars } from '../middleware/admin-key.ts';
import type { RefreshGate } from '../refresh-gate.ts';
import type { FleetService } from '../service.ts';
import type { SessionStore } from '../sessions.ts';

export type AppEnv = { Variables: AuthVars };

export interface RouteDeps {
  service: FleetService;
  gate: RefreshGate;
  hub: EventHub;
  sessions: SessionStore;
  clock: Clock;
  adminKey: string | null;
}

/** Bad input: answered 400 with this message. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * The one input rule of the API: an object (a JSON body, a query string, path parameters) may hold only
 * the fields its schema names; any other field is refused by name (`Unrecognized key: "colour"`).
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const strict = schema instanceof z.ZodObject ? (schema.strict() as unknown as T) : schema;
  const r = strict.safeParse(value);
  if (!r.success) throw new BadRequest(`invalid ${what}: ${formatIssues(r.error)}`);
  return r.data;
}

export async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/json'))
    throw new BadRequest('send a JSON body with Content-Type: application/json');
  try {
    return await c.req.json();
  } catch {
    throw new BadRequest('the request body is not valid JSON');
  }
}

/** A whole number in a query string, with one message for every route: `limit must be a whole number from 1 to 500`. */
function wholeNumber(name: string, min: number, max: number) {
  const message = `${name} must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));
}

/** The one schema of list parameters (every list route extends it): limit (default 50) and offset. */
export const listParams = {
  limit: wholeNumber('limit', 1, 500).default(50),
  offset: wholeNumber('offset', 0, 1_000_000).default(0),
};
/** The same parameters where a page shows the whole list by default (the action queue). */
export const wholeListParams = { ...listParams, limit: wholeNumber('limit', 1, 500).default(500) };
export const limitQuery = z.object(listParams);

/** Auth file and account names: no path separators, no leading dot, so they can never escape a directory. */
export const safeName = z
  .string()
  .min(1, 'name is required')
  .max(128, 'name must be at most 128 characters')
  .regex(AUTH_FILE_NAME, `name may use ${AUTH_FILE_NAME_RULE}`);
