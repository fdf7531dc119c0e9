// The shipped price table: public OpenAI list prices in USD per 1M tokens (Standard tier), plus the
// per-provider token conventions. The user edits a copy stored in settings; these are the defaults.
import { z } from 'zod';

const rate = z.number().finite().min(0).max(100_000);

export const modelPriceSchema = z.object({
  input: rate,
  /** null: cached input billed as plain input. */
  cachedInput: rate.nullable().default(null),
  output: rate,
  /** null: reasoning billed as output (OpenAI's rule). */
  reasoning: rate.nullable().default(null),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

export const providerConventionSchema = z.object({
  /** OpenAI/Codex report input_tokens including cached tokens; Anthropic reports them apart. */
  inputIncludesCached: z.boolean(),
  /** OpenAI counts reasoning inside output_tokens; Gemini reports thoughts apart. */
  outputIncludesReasoning: z.boolean(),
});
export type ProviderConvention = z.infer<typeof providerConventionSchema>;

export const priceTableSchema = z.object({
  models: z.record(z.string().min(1).max(200), modelPriceSchema),
  /** alias → model name in `models`. */
  aliases: z.record(z.string().min(1).max(200), z.string().min(1).max(200)).default({}),
  /** service_tier → price multiplier. */
  tiers: z.record(z.string().min(1).max(50), z.number().finite().min(0).max(100)).default({}),
  conventions: z.record(z.string().min(1).max(100), providerConventionSchema).default({}),
  defaultConvention: providerConventionSchema.default({ inputIncludesCached: true, outputIncludesReasoning: true }),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

const p = (input: number, cachedInput: number | null, output: number): ModelPrice => ({
  input,
  cachedInput,
  output,
  reasoning: null,
});

export const DEFAULT_PRICES: PriceTable = {
  models: {
    'gpt-5.2': p(1.75, 0.175, 14),
    'gpt-5.2-pro': p(21, null, 168),
    'gpt-5.1': p(1.25, 0.125, 10),
    'gpt-5.1-codex': p(1.25, 0.125, 10),
    'gpt-5.1-codex-max': p(1.25, 0.125, 10),
    'gpt-5.1-codex-mini': p(0.25, 0.025, 2),
    'gpt-5': p(1.25, 0.125, 10),
    'gpt-5-codex': p(1.25, 0.125, 10),
    'gpt-5-mini': p(0.25, 0.025, 2),
    'gpt-5-nano': p(0.05, 0.005, 0.4),
    'gpt-5-pro': p(15, null, 120),
    'codex-mini-latest': p(1.5, 0.375, 6),
    o3: p(2, 0.5, 8),
    'o3-pro': p(20, null, 80),
    'o4-mini': p(1.1, 0.275, 4.4),
    'o3-mini': p(1.1, 0.55, 4.4),
    'gpt-4.1': p(2, 0.5, 8),
    'gpt-4.1-mini': p(0.4, 0.1, 1.6),
    'gpt-4.1-nano': p(0.1, 0.025, 0.4),
    'gpt-4o': p(2.5, 1.25, 10),
    'gpt-4o-mini': p(0.15, 0.075, 0.6),
  },
  aliases: {
    'gpt-5-chat-latest': 'gpt-5',
    'gpt-5.1-chat-latest': 'gpt-5.1',
    'gpt-5.2-chat-latest': 'gpt-5.2',
    'chatgpt-4o-latest': 'gpt-4o',
  },
  tiers: { priority: 2, flex: 0.5, default: 1, auto: 1, standard: 1 },
  conventions: {
    claude: { inputIncludesCached: false, outputIncludesReasoning: true },
    anthropic: { inputIncludesCached: false, outputIncludesReasoning: true },
    gemini: { inputIncludesCached: true, outputIncludesReasoning: false },
    'gemini-cli': { inputIncludesCached: true, outputIncludesReasoning: false },
    vertex: { inputIncludesCached: true, outputIncludesReasoning: false },
    aistudio: { inputIncludesCached: true, outputIncludesReasoning: false },
  },
  defaultConvention: { inputIncludesCached: true, outputIncludesReasoning: true },
};

export type PriceTableResult = { ok: true; table: PriceTable } | { ok: false; error: string };

/** Validates a user-edited table; the error names the field that is wrong. */
export function parsePriceTable(input: unknown): PriceTableResult {
  const r = priceTableSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: `price table: ${i.path.join('.') || '(root)'}: ${i.message}` };
  }
  for (const [alias, target] of Object.entries(r.data.aliases)) {
    if (!(target in r.data.models))
      return { ok: false, error: `price table: alias "${alias}" points to unknown model "${target}"` };
  }
  return { ok: true, table: r.data };
}
