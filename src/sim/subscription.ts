// The simulator's GET /backend-api/subscriptions?account_id=…: the paid plan's term, as the web app reads it.
import type { AccountState } from './account.ts';
import { jsonAnswer, type WireAnswer } from './wire.ts';

export function subscriptionAnswer(state: AccountState, now: number, accountId: string | null): WireAnswer {
  if (accountId !== state.account.id) return jsonAnswer(404, { detail: 'Not Found' });
  const ends = state.planEndsAt;
  if (ends == null) {
    return jsonAnswer(200, { plan_type: state.account.plan, entitlement: { has_active_subscription: false } });
  }
  const willRenew = state.spec.planWillRenew ?? true;
  const activeUntil = new Date(ends * 1000).toISOString();
  return jsonAnswer(200, {
    id: `sub-${state.account.id.slice(0, 8)}`,
    plan_type: state.account.plan,
    active_start: new Date((ends - 30 * 86400) * 1000).toISOString(),
    active_until: activeUntil,
    will_renew: willRenew,
    billing_period: 'monthly',
    entitlement: { has_active_subscription: true, renews_at: willRenew ? activeUntil : null },
    // The simulator's clock: answers are consistent with its usage windows.
    ...(now > ends ? { expires_at: activeUntil } : {}),
  });
}
