// Inspection results and the action policy's vocabulary: one definition for CLI, API, page and queue.
import type { AccountState, ProbeReason, SnapshotSource, WindowKind, WindowScope } from './quota.ts';

export const SUGGESTED_ACTIONS = ['Keep', 'Reauth', 'Disable', 'Enable', 'Delete'] as const;
export type SuggestedAction = (typeof SUGGESTED_ACTIONS)[number];

/** The windows an operator can set a disable threshold for. */
export const THRESHOLD_WINDOWS = ['5h', 'weekly', 'monthly'] as const satisfies readonly WindowKind[];
export type ThresholdWindow = (typeof THRESHOLD_WINDOWS)[number];

export interface WindowThreshold {
  enabled: boolean;
  /** Suggest Disable when used % reaches this value. */
  disableAtUsedPercent: number;
}
export type InspectionThresholds = Record<ThresholdWindow, WindowThreshold>;

export interface InspectionWindowEvidence {
  kind: WindowKind;
  scope: WindowScope;
  limitName: string | null;
  usedPercent: number | null;
  resetsAt: string | null;
}

/** The fields a decision was taken from. Never a token or a raw body. */
export interface InspectionEvidence {
  httpStatus: number | null;
  probeReason: ProbeReason | null;
  errorCode: string | null;
  /** Sanitized one-line upstream message. */
  message: string | null;
  plan: string | null;
  windows: InspectionWindowEvidence[];
  limitReached: boolean | null;
  /** When a rate-limited account gets capacity back (ISO), when known. */
  resetsAt: string | null;
  /** Access token expiry (ISO), when known. */
  tokenExpiresAt: string | null;
  source: SnapshotSource | null;
  probedAt: string | null;
  transient: boolean;
  /**
   * Issue 20: what requests through CPA said about the account beside the probe's answer (last hour,
   * sanitized last failure, a disagreement with the probe). Evidence only: it decides no action.
   */
  requests?: InspectionRequestEvidence | null;
}

export interface InspectionRequestEvidence {
  lastHour: { requests: number; failures: number; failuresByStatus: Record<string, number> };
  lastFailure: { at: string; status: number; failureType: string | null; message: string | null } | null;
  disagreement: { kind: string; summary: string; detectedAt: string; reprobeState: string | null } | null;
}

export interface InspectionResult {
  accountId: string;
  accountName: string;
  /** Whether the account was disabled when inspected. */
  disabled: boolean;
  state: AccountState;
  action: SuggestedAction;
  /** One line, operator words. */
  reason: string;
  evidence: InspectionEvidence;
  /** What the decision could not see: unknown is neither healthy nor unhealthy. */
  missing: string[];
  inspectedAt: number;
}

/** Who disabled an account and why: auto-enable only ever undoes codex-fleet's own disables. */
export interface DisableOwnership {
  disabledBy: 'person' | 'codex-fleet';
  /** Person's name or schedule id, for the audit trail. */
  actor: string | null;
  reason: string;
  /** The account state that caused the disable, e.g. exhausted. */
  state: string | null;
  disabledAt: number;
  /** When the cause is expected to clear (a window reset), ms; null when it does not clear by itself. */
  until: number | null;
}

export const POLICY_DECISIONS = ['none', 'queue', 'auto'] as const;
export type PolicyDecisionKind = (typeof POLICY_DECISIONS)[number];

export interface PolicySettings {
  /** Opt-in automatic execution per action type; everything else waits for approval. */
  autoDisable: boolean;
  autoEnable: boolean;
  /** Its own opt-in: automatic delete with confirmed evidence; without it a Delete becomes a Disable. */
  autoDelete: boolean;
  /** Delete evidence must be seen on two inspections at least this many minutes apart. */
  deleteConfirmMinutes: number;
}

export interface PolicyDecision {
  decision: PolicyDecisionKind;
  action: SuggestedAction | null;
  reason: string;
}

/** Defaults kept here, beside their types, so reading settings does not load the rules that use them. */
export const DEFAULT_INSPECTION_THRESHOLDS: InspectionThresholds = {
  '5h': { enabled: false, disableAtUsedPercent: 100 },
  weekly: { enabled: true, disableAtUsedPercent: 100 },
  monthly: { enabled: true, disableAtUsedPercent: 100 },
};

export const DEFAULT_POLICY_SETTINGS: PolicySettings = {
  autoDisable: false,
  autoEnable: false,
  autoDelete: false,
  deleteConfirmMinutes: 60,
};
