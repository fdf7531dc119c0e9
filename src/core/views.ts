// The views the application core hands to both faces (CLI and HTTP), and the contract it keeps.
// `src/core/fleet-service.ts` implements it; neither face talks to upstream, store or files directly.
// Every value here is safe to serve: secrets are already masked by the implementation.
// Types are the rooms' own (domain, inspect, actions, cpa, notify); only the views are defined here.
import type { EventEmitter } from 'node:events';
import type { AccountSourceKind, AuthFileFormat } from '../domain/account.ts';
import type { InspectionResult, InspectionThresholds, PolicySettings } from '../domain/inspection.ts';
import type { AccountState, Credits, ProbeReason, QuotaWindow, SnapshotSource, WindowKind } from '../domain/quota.ts';
import { ACCOUNT_STATUSES } from '../domain/report.ts';
import type { InspectionRun } from '../inspect/runs-repo.ts';
import type { Schedule } from '../inspect/schedule.ts';
import type { CollectorStats } from '../monitor/collector.ts';
import type { MonitorService } from '../monitor/service.ts';
import type { publicNotificationSettings } from './alerting.ts';
import type { AccountRequests } from './request-outcomes.ts';

export type { ActionStatus } from '../actions/actions-repo.ts';
export type { CpaServerInput, CpaServerView } from '../cpa/servers.ts';
export type { DoctorReport } from '../doctor/checks.ts';

/** The report's statuses, plus `unknown` for an account never checked successfully. */
export const HEALTH_STATUSES = [...ACCOUNT_STATUSES, 'unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface AccountView {
  id: string;
  name: string;
  /** The seat's email. */
  email: string | null;
  /** The workspace (chatgpt_account_id, sent as ChatGPT-Account-Id); seats of one Team workspace share it. */
  workspaceId: string | null;
  plan: string | null;
  format: AuthFileFormat;
  sourceKind: AccountSourceKind;
  disabled: boolean;
  status: HealthStatus;
  state: AccountState | null;
  reason: ProbeReason | null;
  /** Sanitized one-line message from the last probe. */
  message: string | null;
  healthScore: number | null;
  windows: QuotaWindow[];
  credits: Credits | null;
  source: SnapshotSource | null;
  /** ISO time of the last probe. */
  lastCheckedAt: string | null;
  /** True when the windows shown come from an older probe (the latest failed transiently). */
  stale: boolean;
  /** When capacity returns for an exhausted account (ISO), when known. */
  capacityReturnsAt: string | null;
  /** True while a probe of this account is in flight. */
  refreshing: boolean;
  /** When the paid plan's current term ends (ISO), and whether it renews then; null when not read yet. */
  planEndsAt: string | null;
  planWillRenew: boolean | null;
  /**
   * What requests through CPA said about this account (last hour, 24 h, last failure, a disagreement
   * with the probe); null when monitoring holds no request for it (issue 20, src/core/request-outcomes.ts).
   */
  requests?: AccountRequests | null;
}

export interface PoolSummary {
  total: number;
  counts: Record<HealthStatus, number>;
  /** Earliest time an exhausted account gets capacity back (ISO), when known. */
  nextCapacityAt: string | null;
  /** Mean remaining % per window kind over the accounts that report it. */
  remainingPercent: Partial<Record<WindowKind, number>>;
  lastRefreshAt: string | null;
  refreshing: boolean;
}

export interface RefreshOutcome {
  startedAt: string;
  finishedAt: string;
  probed: number;
  failed: number;
}

/** A run as listed (no results); GET /api/inspections/:id adds its results. Times in ms. */
export type InspectionRunView = Omit<InspectionRun, 'holder'> & { results?: InspectionResult[] };

export type ScheduleView = Schedule & { nextRunAt: number | null };

export interface SettingsView {
  thresholds: InspectionThresholds;
  policy: PolicySettings;
  /** The SMTP password never appears: `email.passwordSet` says whether one is stored. */
  notifications: ReturnType<typeof publicNotificationSettings>;
  probeConcurrency: number;
}

export interface AuthFileView {
  name: string;
  format: AuthFileFormat;
  email: string | null;
  accountId: string | null;
  disabled: boolean;
  /** Masked values (maskSecret), null when absent. */
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  modifiedAt: string | null;
}

/** Creating or editing an auth file. A token field omitted keeps the stored value; a string replaces it. */
export interface AuthFileInput {
  name: string;
  format?: AuthFileFormat;
  email?: string | null;
  accountId?: string | null;
  disabled?: boolean;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
}

export const FLEET_EVENT_TYPES = [
  'accounts',
  'refresh',
  'inspection',
  'actions',
  'audit',
  'schedule',
  'settings',
  'auth-files',
  'monitor',
] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

/** A change notice pushed over SSE; the page re-reads the named resource. Never carries secrets. */
export interface FleetEvent {
  type: FleetEventType;
  at: string;
  /** The account, run or action concerned, when one. */
  id?: string;
}

/** A user-facing failure (unknown id, invalid state). The server maps it to 404 / 409 / 400. */
export class FleetError extends Error {
  readonly code: 'not_found' | 'conflict' | 'invalid';
  constructor(code: 'not_found' | 'conflict' | 'invalid', message: string) {
    super(message);
    this.name = 'FleetError';
    this.code = code;
  }
}

/** Request monitoring, when the core runs it: the queries, the collector's counters and the 'events' emitter. */
export interface MonitorMount {
  /** The monitoring queries; the server maps them to /api/monitor. */
  service: MonitorService;
  /** The running collector's counters, when this process runs one. */
  collector?: () => CollectorStats | null;
  /** Emits 'events' after each committed batch (throttled into 'monitor' SSE notices). */
  events?: Pick<EventEmitter, 'on' | 'off'>;
}
