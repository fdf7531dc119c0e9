// One simulated account: identity, rotating tokens, and quota windows that fill at a burn rate and
// reset at their reset time on the simulator's clock.
import { z } from 'zod';
import { createRng, latencySpecSchema, type Rng } from './rng.ts';
import {
  FIVE_HOURS,
  FIVE_HOURS_SEEN,
  MONTH,
  SCENARIO_NAMES,
  SCENARIOS,
  type ScenarioName,
  WEEK,
  WEEK_SEEN,
  type WindowLayout,
} from './scenarios.ts';
import { ACCESS_TOKEN_TTL_SECONDS, mintTokens, type TokenSet } from './tokens.ts';

export const simAccountSpecSchema = z
  .object({
    /** ChatGPT account id (a UUID upstream); generated from the seed when absent. */
    id: z.string().min(1).optional(),
    email: z.string().min(3).optional(),
    /** File name stem used by writeAuthFiles; from the email when absent. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._@+-]+$/, 'name may hold letters, digits and . _ @ + - only')
      .optional(),
    plan: z.string().min(1).optional(),
    scenario: z.enum(SCENARIO_NAMES).optional(),
    /** %/hour the primary window fills; longer windows fill proportionally slower. */
    burnRatePerHour: z.number().nonnegative().optional(),
    primaryUsedPercent: z.number().min(0).max(100).optional(),
    secondaryUsedPercent: z.number().min(0).max(100).optional(),
    primaryResetAfterSeconds: z.number().positive().optional(),
    secondaryResetAfterSeconds: z.number().positive().optional(),
    latency: latencySpecSchema.optional(),
    /** flaky: failures before the first success. */
    failures: z.number().int().nonnegative().optional(),
    /** throttled: the Retry-After value. */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    credits: z.object({ hasCredits: z.boolean(), unlimited: z.boolean(), balance: z.string() }).optional(),
    /** The paid plan's term on the subscriptions endpoint: days from creation until it ends (default 30). */
    planEndsInDays: z.number().positive().optional(),
    /** Whether that term renews (default true); false plays a lapsing subscription. */
    planWillRenew: z.boolean().optional(),
  })
  .strict();
export type SimAccountSpec = z.infer<typeof simAccountSpecSchema>;

/** The public, live view of an account (tokens change as refreshes rotate them). */
export interface SimAccount {
  id: string;
  userId: string;
  email: string;
  name: string;
  plan: string;
  scenario: ScenarioName;
  burnRatePerHour: number;
  accessToken: string;
  refreshToken: string;
  idToken: string;
  /** Access token expiry, unix seconds. */
  expiresAt: number;
  /** ISO time of the last token issue. */
  lastRefresh: string;
}

export interface SimWindow {
  windowSeconds: number;
  /** Usage at the start of the current period, percent. */
  usedAtStart: number;
  /** Sim time (unix seconds, fractional) when the current period started. */
  periodStart: number;
  resetAt: number;
  burnPerHour: number;
}

export interface AccountState {
  account: SimAccount;
  spec: SimAccountSpec;
  primary: SimWindow | null;
  secondary: SimWindow | null;
  codeReview: SimWindow | null;
  additional: SimWindow | null;
  /** The member's workspace spend budget (spend_control.individual_limit), when the scenario has one. */
  spend: SimWindow | null;
  /** The current access token is refused as expired even if its JWT exp is ahead (setScenario). */
  accessExpired: boolean;
  failuresLeft: number;
  /** Sim time (unix seconds) the paid plan's current term ends; null for a free plan. */
  planEndsAt: number | null;
}

const DEFAULT_BURN_PER_HOUR = 2;

function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function makeWindow(windowSeconds: number, used: number, resetAfter: number, burn: number, now: number): SimWindow {
  const resetAfterClamped = Math.min(resetAfter, windowSeconds);
  return {
    windowSeconds,
    usedAtStart: used,
    periodStart: now,
    resetAt: now + resetAfterClamped,
    burnPerHour: burn,
  };
}

/** A 5h window holds about a fifth of a week's quota, so longer windows burn proportionally slower. */
function burnFor(windowSeconds: number, primarySeconds: number, primaryBurn: number): number {
  if (windowSeconds === primarySeconds) return primaryBurn;
  return (primaryBurn * primarySeconds * 5) / windowSeconds;
}

/** Window lengths per layout (UPSTREAM.md §1–§2); null: the slot is empty. */
const LAYOUTS: Record<WindowLayout, [number | null, number | null]> = {
  standard: [FIVE_HOURS, WEEK],
  'weekly-only': [WEEK, null],
  monthly: [FIVE_HOURS, MONTH],
  'monthly-only': [MONTH, null],
  inexact: [FIVE_HOURS_SEEN, WEEK_SEEN],
  none: [null, null],
};

/** Builds the windows a scenario starts with (used by creation and by setScenario). */
export function buildWindows(state: Pick<AccountState, 'spec' | 'account'>, now: number) {
  const def = SCENARIOS[state.account.scenario];
  const spec = state.spec;
  const burn = state.account.burnRatePerHour;
  const [primarySeconds, secondarySeconds] = LAYOUTS[def.layout];
  // Spec values only override when the spec was written for this scenario (setScenario keeps the spec).
  const own = (spec.scenario ?? 'healthy') === state.account.scenario;
  const pUsed = (own ? spec.primaryUsedPercent : undefined) ?? def.primaryUsedPercent;
  const sUsed = (own ? spec.secondaryUsedPercent : undefined) ?? def.secondaryUsedPercent;
  const longReset = (seconds: number) => (seconds >= MONTH - 3 * 86400 ? 12 * 86400 : 3 * 86400);
  const pReset =
    spec.primaryResetAfterSeconds ?? (primarySeconds === FIVE_HOURS ? 7200 : longReset(primarySeconds ?? WEEK));
  const sReset = spec.secondaryResetAfterSeconds ?? longReset(secondarySeconds ?? WEEK);
  const primary = primarySeconds == null ? null : makeWindow(primarySeconds, pUsed, pReset, burn, now);
  const secondary =
    primarySeconds == null || secondarySeconds == null
      ? null
      : makeWindow(secondarySeconds, sUsed, sReset, burnFor(secondarySeconds, primarySeconds, burn), now);
  const codeReview = def.codeReview ? makeWindow(WEEK, 8, 4 * 86400, burnFor(WEEK, FIVE_HOURS, burn) / 4, now) : null;
  const additional = def.additionalLimits ? makeWindow(FIVE_HOURS, 20, 3600, burn / 2, now) : null;
  // A workspace spend budget: a monthly allowance that fills slowly and resets with the billing period.
  const sc = def.spendControl;
  const spend = sc?.details
    ? makeWindow(MONTH, sc.usedPercent, 20 * 86400, sc.usedPercent >= 100 ? 0 : burn / 50, now)
    : null;
  return { primary, secondary, codeReview, additional, spend };
}

/** Moves a window past every reset that happened before `now`. */
export function rollWindow(window: SimWindow, now: number): void {
  if (now < window.resetAt) return;
  const periods = Math.floor((now - window.resetAt) / window.windowSeconds) + 1;
  window.periodStart = window.resetAt + (periods - 1) * window.windowSeconds;
  window.resetAt += periods * window.windowSeconds;
  window.usedAtStart = 0;
}

/** Used percent at `now` (fractional; the wire rounds). */
export function usedPercentAt(window: SimWindow, now: number): number {
  rollWindow(window, now);
  const grown = window.usedAtStart + (window.burnPerHour * Math.max(0, now - window.periodStart)) / 3600;
  return Math.min(100, grown);
}

export function issueTokens(state: AccountState, now: number, expired: boolean): TokenSet {
  const a = state.account;
  const nowSeconds = Math.floor(now);
  const exp = expired ? nowSeconds - 3600 : nowSeconds + ACCESS_TOKEN_TTL_SECONDS;
  const tokens = mintTokens({ accountId: a.id, userId: a.userId, email: a.email, plan: a.plan }, nowSeconds, exp);
  a.accessToken = tokens.accessToken;
  a.refreshToken = tokens.refreshToken;
  a.idToken = tokens.idToken;
  a.expiresAt = tokens.expiresAt;
  a.lastRefresh = new Date(now * 1000).toISOString();
  state.accessExpired = false;
  return tokens;
}

/** Creates an account from its spec. `index` and `rng` make ids and emails stable for a seed. */
export function createAccountState(spec: SimAccountSpec, index: number, rng: Rng, now: number): AccountState {
  const scenario = spec.scenario ?? 'healthy';
  const def = SCENARIOS[scenario];
  const idRng = createRng(Math.floor(rng() * 2 ** 32));
  const id = spec.id ?? uuidFrom(idRng);
  const n = String(index + 1).padStart(3, '0');
  const email = spec.email ?? `sim${n}.${scenario}@example.test`;
  const name = spec.name ?? email.replace(/@.*$/, '');
  const account: SimAccount = {
    id,
    userId: `user-${uuidFrom(idRng).replaceAll('-', '').slice(0, 24)}`,
    email,
    name,
    plan: spec.plan ?? def.plan,
    scenario,
    burnRatePerHour: spec.burnRatePerHour ?? DEFAULT_BURN_PER_HOUR,
    accessToken: '',
    refreshToken: '',
    idToken: '',
    expiresAt: 0,
    lastRefresh: '',
  };
  const state: AccountState = {
    account,
    spec,
    ...buildWindows({ account, spec }, now),
    accessExpired: false,
    failuresLeft: spec.failures ?? 2,
    planEndsAt: account.plan === 'free' ? null : now + (spec.planEndsInDays ?? 30) * 86400,
  };
  issueTokens(state, now, def.tokenExpired === true);
  return state;
}
