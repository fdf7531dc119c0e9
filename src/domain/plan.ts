// The paid plan's term as every face shows it (account view, report extensions, metrics, table), and the
// one rule for which end is worth a warning: a term that will not renew.
export const PLAN_TERM_STATUSES = ['active', 'canceled', 'none', 'unknown'] as const;
export type PlanTermStatus = (typeof PLAN_TERM_STATUSES)[number];

export interface PlanTerm {
  status: PlanTermStatus;
  plan: string | null;
  /** When the paid period ends (cancels_at, else active_until, else expires_at); null when unknown. */
  endsAt: string | null;
  /** false: the plan lapses at endsAt; true: it renews; null: unknown. */
  willRenew: boolean | null;
  /** Why the term is unknown (HTTP status, malformed body), never a body or token. */
  note: string | null;
  checkedAt: string;
}

/** The plan end worth a warning: a term that will not renew (or whose renewal is unknown). */
export function lapsesAt(term: PlanTerm | null | undefined): string | null {
  if (!term || term.status === 'none' || term.status === 'unknown') return null;
  return term.willRenew === true ? null : term.endsAt;
}
