import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateCost, resolveModelPrice } from './cost.ts';
import { DEFAULT_PRICES, parsePriceTable } from './prices.ts';

const close = (a: number | null, b: number) => {
  assert.ok(a !== null, 'expected a price');
  assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
};

test('gpt-5: cached billed once at the cached rate when input includes cached (OpenAI convention)', () => {
  // 1M input of which 400k cached, 100k output: 600k*1.25 + 400k*0.125 + 100k*10 per 1M
  const c = estimateCost(
    DEFAULT_PRICES,
    { provider: 'codex', model: 'gpt-5', tier: null },
    {
      input: 1_000_000,
      cached: 400_000,
      output: 100_000,
      reasoning: 0,
    },
  );
  close(c, 0.75 + 0.05 + 1);
});

test('input excluding cached (Anthropic-style provider) is not reduced again', () => {
  const table = {
    ...DEFAULT_PRICES,
    models: { ...DEFAULT_PRICES.models, claude: { input: 3, cachedInput: 0.3, output: 15, reasoning: null } },
  };
  const c = estimateCost(
    table,
    { provider: 'claude', model: 'claude', tier: null },
    {
      input: 600_000,
      cached: 400_000,
      output: 0,
      reasoning: 0,
    },
  );
  close(c, 1.8 + 0.12);
});

test('same usage gives the same cost under both conventions', () => {
  const incl = estimateCost(
    DEFAULT_PRICES,
    { provider: 'openai', model: 'gpt-5', tier: null },
    { input: 1000, cached: 300, output: 0, reasoning: 0 },
  );
  const table = {
    ...DEFAULT_PRICES,
    conventions: { x: { inputIncludesCached: false, outputIncludesReasoning: true } },
  };
  const excl = estimateCost(
    table,
    { provider: 'x', model: 'gpt-5', tier: null },
    { input: 700, cached: 300, output: 0, reasoning: 0 },
  );
  close(incl, excl as number);
});

test('reasoning inside output is not billed twice; a separate reasoning rate applies', () => {
  const t = { input: 0, cached: 0, output: 1_000_000, reasoning: 400_000 };
  close(estimateCost(DEFAULT_PRICES, { provider: 'codex', model: 'gpt-5', tier: null }, t), 10);
  const table = { ...DEFAULT_PRICES, models: { m: { input: 1, cachedInput: null, output: 10, reasoning: 20 } } };
  close(estimateCost(table, { provider: 'codex', model: 'm', tier: null }, t), 6 + 8);
  close(estimateCost(table, { provider: 'gemini', model: 'm', tier: null }, t), 10 + 8);
});

test('service tier multipliers', () => {
  const t = { input: 1_000_000, cached: 0, output: 0, reasoning: 0 };
  close(estimateCost(DEFAULT_PRICES, { provider: 'codex', model: 'gpt-5', tier: 'priority' }, t), 2.5);
  close(estimateCost(DEFAULT_PRICES, { provider: 'codex', model: 'gpt-5', tier: 'flex' }, t), 0.625);
  close(estimateCost(DEFAULT_PRICES, { provider: 'codex', model: 'gpt-5', tier: 'default' }, t), 1.25);
});

test('unknown model is unpriced (null), never $0', () => {
  const c = estimateCost(
    DEFAULT_PRICES,
    { provider: 'sim', model: 'sim-model', tier: null },
    { input: 5, cached: 0, output: 5, reasoning: 0 },
  );
  assert.equal(c, null);
});

test('aliases, dated snapshots, prefixes and effort suffixes resolve to the base model', () => {
  for (const name of ['gpt-5-2025-08-07', 'openai/gpt-5', 'GPT-5', 'gpt-5-chat-latest', 'gpt-5-high']) {
    assert.equal(resolveModelPrice(DEFAULT_PRICES, name)?.model, 'gpt-5', name);
  }
  assert.equal(resolveModelPrice(DEFAULT_PRICES, 'gpt-5-codex(high)')?.model, 'gpt-5-codex');
  assert.equal(resolveModelPrice(DEFAULT_PRICES, 'my-alias', 'o3')?.model, 'o3');
});

test('price table edits are validated with a clear error', () => {
  assert.ok(parsePriceTable(DEFAULT_PRICES).ok);
  const bad = parsePriceTable({ models: { 'gpt-5': { input: -1, output: 1 } } });
  assert.ok(!bad.ok && /models\.gpt-5\.input/.test(bad.error));
  const dangling = parsePriceTable({ models: {}, aliases: { a: 'nope' } });
  assert.ok(!dangling.ok && /alias "a"/.test(dangling.error));
});
