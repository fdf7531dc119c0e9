// Auth files: list / show (masked) / create / update / delete, and codex-quota's form posts
// POST /auth/save and POST /auth/delete. A token is replaced only when a new value is sent;
// an empty form field keeps the stored one.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { AUTH_FILE_FORMATS } from '../../domain/account.ts';
import { type AuthFileInput, FleetError } from '../service.ts';
import { type AppEnv, BadRequest, jsonBody, parseWith, type RouteDeps, safeName } from './context.ts';

const token = z
  .string()
  .min(8, 'a token must be at least 8 characters')
  .max(20_000, 'a token must be at most 20000 characters')
  .regex(/^\S+$/, 'a token cannot contain spaces');

export const authFileSchema = z
  .object({
    name: safeName,
    format: z.enum(AUTH_FILE_FORMATS).optional(),
    email: z.string().email('email must be an email address').nullable().optional(),
    accountId: z.string().max(200).nullable().optional(),
    disabled: z.boolean().optional(),
    accessToken: token.optional(),
    refreshToken: token.optional(),
    idToken: token.optional(),
  })
  .strict();

const nameParam = z.object({ name: safeName });

/** The names codex-quota's forms and files use for each field (snake_case), beside ours (camelCase). */
const FIELD_ALIASES: Array<[keyof AuthFileInput, string]> = [
  ['accountId', 'account_id'],
  ['accessToken', 'access_token'],
  ['refreshToken', 'refresh_token'],
  ['idToken', 'id_token'],
];

/**
 * A JSON body with the form's and codex-quota's names (`access_token`, `account_id`, …) or ours
 * (`accessToken`, …): the same fields, renamed; both spellings with different values is refused.
 */
function fromJson(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const [key, alias] of FIELD_ALIASES) {
    if (!(alias in out)) continue;
    if (key in out && out[key] !== out[alias]) {
      throw new BadRequest(`invalid auth file: ${key} and ${alias} name the same field with different values`);
    }
    out[key] = out[alias];
    delete out[alias];
  }
  return out;
}

/** Maps codex-quota style form fields (snake_case, strings) to an AuthFileInput; blanks mean "keep". */
function fromForm(body: Record<string, unknown>): unknown {
  const str = (k: string) => {
    const v = body[k];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const out: Record<string, unknown> = { name: str('name') ?? '' };
  const map: Array<[string, string]> = [
    ['format', 'format'],
    ['email', 'email'],
    ['accountId', 'account_id'],
    ['accessToken', 'access_token'],
    ['refreshToken', 'refresh_token'],
    ['idToken', 'id_token'],
  ];
  for (const [key, form] of map) {
    const v = str(key) ?? str(form);
    if (v !== undefined) out[key] = v;
  }
  const disabled = str('disabled');
  if (disabled !== undefined) out.disabled = disabled === 'true' || disabled === 'on' || disabled === '1';
  return out;
}

async function aliasInput(c: Context): Promise<{ input: unknown; form: boolean; mode: string | undefined }> {
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('application/json')) {
    const body = await jsonBody(c);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BadRequest('invalid auth file: the JSON body must be an object');
    }
    const { mode, _csrf: _ignored, ...rest } = body as Record<string, unknown>;
    return { input: fromJson(rest), form: false, mode: typeof mode === 'string' ? mode : undefined };
  }
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    const body = await c.req.parseBody();
    return { input: fromForm(body), form: true, mode: typeof body.mode === 'string' ? body.mode : undefined };
  }
  throw new BadRequest('send a form (application/x-www-form-urlencoded) or JSON body');
}

export function authFileRoutes({ service }: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/api/auth-files', async (c) => c.json({ files: await service.listAuthFiles() }));
  app.get('/api/auth-files/:name', async (c) => {
    const { name } = parseWith(nameParam, c.req.param(), 'auth file name');
    const file = await service.getAuthFile(name);
    if (!file) throw new FleetError('not_found', `no auth file named ${name}`);
    return c.json({ file });
  });
  app.post('/api/auth-files', async (c) => {
    const input: AuthFileInput = parseWith(authFileSchema, await jsonBody(c), 'auth file');
    return c.json({ file: await service.saveAuthFile(input, 'create') }, 201);
  });
  app.put('/api/auth-files/:name', async (c) => {
    const { name } = parseWith(nameParam, c.req.param(), 'auth file name');
    const body = await jsonBody(c);
    const input: AuthFileInput = parseWith(authFileSchema, { ...(body as object), name }, 'auth file');
    return c.json({ file: await service.saveAuthFile(input, 'update') });
  });
  app.delete('/api/auth-files/:name', async (c) => {
    const { name } = parseWith(nameParam, c.req.param(), 'auth file name');
    await service.deleteAuthFile(name);
    return c.json({ deleted: name });
  });

  // codex-quota aliases: HTML forms post here and land back on the list.
  app.post('/auth/save', async (c) => {
    const { input, form, mode } = await aliasInput(c);
    const parsed: AuthFileInput = parseWith(authFileSchema, input, 'auth file');
    const chosen =
      mode === 'create' || mode === 'update' ? mode : (await service.getAuthFile(parsed.name)) ? 'update' : 'create';
    const file = await service.saveAuthFile(parsed, chosen);
    return form ? c.redirect('/auth', 303) : c.json({ file });
  });
  app.post('/auth/delete', async (c) => {
    const { input, form } = await aliasInput(c);
    const { name } = parseWith(nameParam, { name: (input as { name?: unknown }).name }, 'auth file name');
    await service.deleteAuthFile(name);
    return form ? c.redirect('/auth', 303) : c.json({ deleted: name });
  });
  return app;
}
