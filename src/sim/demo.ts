// A realistic fleet for the dashboard's demo mode and `npm start`: mostly healthy, some exhausted,
// a few auth problems, one Cloudflare challenge; varied plans, emails and burn rates.
import type { SimAccountSpec } from './account.ts';
import { createRng } from './rng.ts';
import { SCENARIOS, type ScenarioName } from './scenarios.ts';

const MIX: Array<[ScenarioName, number]> = [
  ['healthy', 8],
  ['pro', 3],
  ['team-monthly', 2],
  ['weekly-only-free', 3],
  ['credits', 1],
  ['code-review-additional', 1],
  ['legacy-fields', 1],
  ['exhausted', 2],
  ['five-hour-full', 1],
  ['usage-limit-429', 1],
  ['usage-limit-429-no-reset', 1],
  ['expired-token', 1],
  ['refresh-invalidated', 1],
  ['deactivated-workspace', 1],
  ['account-deactivated', 1],
  ['cloudflare', 1],
  ['flaky', 1],
];

const FIRST = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'alan', 'radia'];
const LAST = ['lovelace', 'hopper', 'torvalds', 'hamilton', 'thompson', 'liskov', 'ritchie', 'allen', 'kay', 'perlman'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'corp.example'];

/** Scenarios whose usage numbers are set by the scenario itself (exhaustion), not randomised. */
const FIXED_USAGE = new Set<ScenarioName>([
  'exhausted',
  'five-hour-full',
  'usage-limit-429',
  'usage-limit-429-no-reset',
]);

/** `n` account specs in the demo mix (the mix repeats past 30, then fills with healthy). */
export function demoAccounts(n: number, seed = 1): SimAccountSpec[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`demo account count must be a whole number >= 0, got ${n}`);
  const rng = createRng(seed);
  const pool: ScenarioName[] = MIX.flatMap(([s, k]) => Array.from({ length: k }, () => s));
  // Deterministic shuffle so problems are spread through the list, as in a real fleet.
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return Array.from({ length: n }, (_, i) => {
    const scenario = i < pool.length * 2 ? pool[i % pool.length] : 'healthy';
    const first = FIRST[Math.floor(rng() * FIRST.length)];
    const last = LAST[Math.floor(rng() * LAST.length)];
    const domain = DOMAINS[Math.floor(rng() * DOMAINS.length)];
    const fiveHourReset = 600 + Math.floor(rng() * 17_000);
    const longReset = 3600 + Math.floor(rng() * 6 * 86_400);
    const spec: SimAccountSpec = {
      scenario,
      email: `${first}.${last}${i + 1}@${domain}`,
      burnRatePerHour: Math.round((0.5 + rng() * 9.5) * 10) / 10,
      // Weekly-only plans carry the weekly window in primary: give it a weekly-scale reset.
      primaryResetAfterSeconds: SCENARIOS[scenario].layout === 'weekly-only' ? longReset : fiveHourReset,
      secondaryResetAfterSeconds: longReset,
    };
    if (!FIXED_USAGE.has(scenario)) {
      spec.primaryUsedPercent = Math.floor(rng() * 85);
      spec.secondaryUsedPercent = Math.floor(rng() * 90);
    }
    if (scenario === 'healthy' && rng() < 0.25) spec.plan = rng() < 0.5 ? 'business' : 'prolite';
    return spec;
  });
}
