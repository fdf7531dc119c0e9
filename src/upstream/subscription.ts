// The paid plan's term, from GET {base}/subscriptions?account_id=<workspace id> (the ChatGPT web app's own
// billing call). The token's chatgpt_subscription_active_until claim goes stale and the usage answer has no
// plan end, so this is the one source for "when does this account's plan end".
// Shape, from public clients that read it: { plan_type, active_until, will_renew, cancels_at?, expires_at?,
// entitlement?: { has_active_subscription, renews_at?, expires_at? }, seats_in_use?, seats_entitled? }.
import { lapsesAt, type PlanTerm } from '../domain/plan.ts';
import { type HeaderTarget, usageRequestHeaders } from './headers.ts';
import { type FetchLike, fetchAnswer } from './http.ts';

export { lapsesAt, type PlanTerm };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** ISO when the value is a valid time (ISO text or unix seconds); undefined when absent; null when invalid. */
function timeOf(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  // A sane range: after 2020, before 2100. Anything else is a malformed answer, not a plan end.
  return Number.isFinite(ms) && ms > 1_577_836_800_000 && ms < 4_102_444_800_000 ? new Date(ms).toISOString() : null;
}

const unknown = (note: string, now: number): PlanTerm => ({
  status: 'unknown',
  plan: null,
  endsAt: null,
  willRenew: null,
  note,
  checkedAt: new Date(now).toISOString(),
});

/** Pure: an HTTP answer of the subscriptions endpoint → the plan term. */
export function parsePlanTerm(status: number | null, body: string | null, now: number): PlanTerm {
  if (status == null) return unknown('network', now);
  if (status !== 200) return unknown(`http_${status}`, now);
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return unknown('malformed', now);
  }
  if (!isObject(value)) return unknown('malformed', now);
  const entitlement = isObject(value.entitlement) ? value.entitlement : {};
  const times = [value.cancels_at, value.active_until, value.expires_at, entitlement.expires_at].map(timeOf);
  // A present but invalid date makes the whole answer untrustworthy: never guess a lapse from it.
  if (times.some((t) => t === null)) return unknown('malformed', now);
  const [cancelsAt, activeUntil, expiresAt, entitlementExpires] = times as Array<string | undefined>;
  const plan = typeof value.plan_type === 'string' ? value.plan_type : null;
  const checkedAt = new Date(now).toISOString();
  if (entitlement.has_active_subscription === false) {
    return { status: 'none', plan, endsAt: null, willRenew: false, note: null, checkedAt };
  }
  const endsAt = cancelsAt ?? activeUntil ?? expiresAt ?? entitlementExpires ?? null;
  const willRenew = typeof value.will_renew === 'boolean' ? value.will_renew : null;
  const canceled = cancelsAt !== undefined || willRenew === false;
  return {
    status: canceled ? 'canceled' : 'active',
    plan,
    endsAt,
    willRenew: canceled ? false : willRenew,
    note: null,
    checkedAt,
  };
}

export interface PlanTermOptions {
  baseUrl: string;
  timeoutMs: number;
  fetch?: FetchLike;
  now?: () => number;
}

export function subscriptionUrl(baseUrl: string, accountId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/subscriptions?account_id=${encodeURIComponent(accountId)}`;
}

/** One read-only GET; failures come back as an `unknown` term with a note. */
export async function fetchPlanTerm(target: HeaderTarget, options: PlanTermOptions): Promise<PlanTerm> {
  const now = options.now ?? Date.now;
  if (!target.accountId) return unknown('no_account_id', now());
  const answer = await fetchAnswer(
    subscriptionUrl(options.baseUrl, target.accountId),
    { method: 'GET', headers: usageRequestHeaders(target), redirect: 'error' },
    options.timeoutMs,
    options.fetch,
  );
  return parsePlanTerm(answer.status, answer.body, now());
}
