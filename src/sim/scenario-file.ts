// Reads a simulator setup from JSON (`--scenario-file`) or from the `--scenarios` flag, with errors
// that name the bad field.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type SimAccountSpec, simAccountSpecSchema } from './account.ts';
import { latencySpecSchema } from './rng.ts';
import { isScenarioName, SCENARIO_NAMES } from './scenarios.ts';

const entrySchema = simAccountSpecSchema.extend({
  /** Repeat this entry; emails and names get a number. */
  count: z.number().int().min(1).max(100_000).optional(),
});

const fileObjectSchema = z
  .object({
    accounts: z.array(entrySchema),
    latency: latencySpecSchema.optional(),
    seed: z.number().int().optional(),
    cloudflareMaxInFlight: z.number().int().min(1).optional(),
    cloudflareWithoutOriginatorRate: z.number().min(0).max(1).optional(),
    refreshDelayMs: z.number().nonnegative().optional(),
    retiredPaths: z
      .array(z.object({ path: z.enum(['/wham', '/codex']), status: z.union([z.literal(403), z.literal(404)]) }))
      .optional(),
  })
  .strict();

export interface ScenarioSetup {
  accounts: SimAccountSpec[];
  latency?: z.infer<typeof latencySpecSchema>;
  seed?: number;
  cloudflareMaxInFlight?: number;
  cloudflareWithoutOriginatorRate?: number;
  refreshDelayMs?: number;
  retiredPaths?: Array<{ path: '/wham' | '/codex'; status: 403 | 404 }>;
}

function expand(entries: z.infer<typeof entrySchema>[]): SimAccountSpec[] {
  return entries.flatMap(({ count, ...spec }) => {
    if (count == null || count === 1) return [spec];
    return Array.from({ length: count }, (_, i) => ({
      ...spec,
      id: undefined,
      email: spec.email?.replace('@', `+${i + 1}@`),
      name: spec.name ? `${spec.name}-${i + 1}` : undefined,
    }));
  });
}

/** Validates parsed JSON; throws an Error naming each bad field. */
export function parseScenarioSetup(value: unknown, origin = 'scenario file'): ScenarioSetup {
  // Parse each form on its own so errors point at the field, not at "(root): Invalid input".
  const parsed = Array.isArray(value) ? z.array(entrySchema).safeParse(value) : fileObjectSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).slice(0, 8);
    throw new Error(`${origin} is not valid:\n  ${problems.join('\n  ')}\nScenarios: ${SCENARIO_NAMES.join(', ')}`);
  }
  const data = parsed.data;
  if (Array.isArray(data)) return { accounts: expand(data) };
  return { ...data, accounts: expand(data.accounts) };
}

export async function readScenarioFile(path: string): Promise<ScenarioSetup> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read scenario file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`scenario file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseScenarioSetup(value, `scenario file ${path}`);
}

/** `healthy:3,cloudflare,exhausted:2` → account specs. */
export function parseScenariosFlag(text: string): SimAccountSpec[] {
  const specs: SimAccountSpec[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, countText] = part.split(':');
    if (!isScenarioName(name)) {
      throw new Error(`unknown scenario "${name}" in --scenarios: use one of ${SCENARIO_NAMES.join(', ')}`);
    }
    const count = countText == null ? 1 : Number(countText);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`bad count "${countText}" for ${name} in --scenarios: use NAME:COUNT with COUNT >= 1`);
    }
    for (let i = 0; i < count; i++) specs.push({ scenario: name });
  }
  if (specs.length === 0) throw new Error('--scenarios is empty: use e.g. healthy:3,exhausted:1');
  return specs;
}
