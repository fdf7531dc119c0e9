// Estimated cost of tokens under a price table. Pure. Unknown model → null ("unpriced"), never $0.
import type { TokenCounts } from './event.ts';
import type { ModelPrice, PriceTable, ProviderConvention } from './prices.ts';

export interface PricedModel {
  model: string;
  price: ModelPrice;
}

// Date-stamped snapshots (gpt-5-2025-08-07), provider prefixes (openai/gpt-5) and effort suffixes
// (gpt-5-codex(high)) price like their base model.
function candidates(name: string): string[] {
  const n = name.trim().toLowerCase();
  const out = [n];
  const noPrefix = n.includes('/') ? n.slice(n.lastIndexOf('/') + 1) : n;
  const noEffort = noPrefix
    .replace(/\((minimal|low|medium|high|xhigh|none)\)$/, '')
    .replace(/-(minimal|low|medium|high|xhigh)$/, '');
  const noDate = noEffort.replace(/-\d{4}-\d{2}-\d{2}$/, '').replace(/-\d{8}$/, '');
  for (const c of [noPrefix, noEffort, noDate]) if (!out.includes(c)) out.push(c);
  return out;
}

/** Finds the price of a model (or of its alias). */
export function resolveModelPrice(
  table: PriceTable,
  model: string | null,
  alias: string | null = null,
): PricedModel | null {
  for (const name of [model, alias]) {
    if (!name) continue;
    for (const c of candidates(name)) {
      const direct = table.models[c];
      if (direct) return { model: c, price: direct };
      const target = table.aliases[c];
      if (target && table.models[target]) return { model: target, price: table.models[target] };
    }
  }
  return null;
}

export function conventionFor(table: PriceTable, provider: string | null): ProviderConvention {
  return (provider && table.conventions[provider.toLowerCase()]) || table.defaultConvention;
}

export function tierMultiplier(table: PriceTable, tier: string | null): number {
  if (!tier) return 1;
  return table.tiers[tier.toLowerCase()] ?? 1;
}

export type CostTokens = Pick<TokenCounts, 'input' | 'cached' | 'output' | 'reasoning'>;

/**
 * Cost in USD, or null when the model has no price. Cached tokens are charged once, at the cached
 * rate: when the provider's `input` already includes them they are taken out of the plain input.
 */
export function estimateCost(
  table: PriceTable,
  q: { provider: string | null; model: string | null; alias?: string | null; tier: string | null },
  t: CostTokens,
): number | null {
  const priced = resolveModelPrice(table, q.model, q.alias ?? null);
  if (!priced) return null;
  const { price } = priced;
  const conv = conventionFor(table, q.provider);
  const cached = Math.max(0, t.cached);
  const plainInput = conv.inputIncludesCached ? Math.max(0, t.input - cached) : Math.max(0, t.input);
  const reasoning = Math.max(0, t.reasoning);
  const plainOutput = conv.outputIncludesReasoning ? Math.max(0, t.output - reasoning) : Math.max(0, t.output);
  const usd =
    plainInput * price.input +
    cached * (price.cachedInput ?? price.input) +
    plainOutput * price.output +
    reasoning * (price.reasoning ?? price.output);
  return (usd / 1_000_000) * tierMultiplier(table, q.tier);
}
