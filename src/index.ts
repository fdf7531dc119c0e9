// Programmatic API: the CLI and the HTTP server are two thin callers of these.
// import { Fleet, resolveConfig, buildHealthReport, runInspection } from 'codex-fleet'

export { readAuthFile } from './accounts/auth-file.ts';
export { TokenManager } from './accounts/refresh.ts';
export { authDirSource, codexHomeSource, loadAll, multiAuthSource } from './accounts/sources/index.ts';
export { setAccountDisabled, writeAccountTokens } from './accounts/write-back.ts';
export { type ActionStatus, ActionsRepo, type QueuedAction } from './actions/actions-repo.ts';
export { executeAction, manualSetDisabled } from './actions/execute.ts';
export { DEFAULT_POLICY_SETTINGS, decideAction } from './actions/policy.ts';
export { type FleetConfig, resolveConfig } from './core/config.ts';
export { Fleet, PROBE_MODES, type ProbeMode, type QuotaCheck, type QuotaCheckOptions } from './core/fleet.ts';
export { type QuotaRow, toQuotaRow } from './core/quota-rows.ts';
export * from './domain/account.ts';
export * from './domain/inspection.ts';
export * from './domain/quota.ts';
export * from './domain/report.ts';
export * from './domain/time.ts';
export { buildForecast, renderForecastText } from './inspect/forecast.ts';
export { DEFAULT_INSPECTION_THRESHOLDS, inspectAccount } from './inspect/inspection.ts';
export { buildMetrics } from './inspect/metrics.ts';
export { buildHealthReport, renderHealthReportText } from './inspect/report.ts';
export { runInspection } from './inspect/run.ts';
export { InspectionScheduler, readSchedule, saveSchedule } from './inspect/scheduler.ts';
export { deriveStatus } from './inspect/status.ts';
export { detectChanges } from './notify/changes.ts';
export { Notifier } from './notify/notifier.ts';
export { deliverMessage } from './notify/channels.ts';
export type { WebhookTarget } from './notify/webhook.ts';
export { startSimulator } from './sim/index.ts';
export { cacheDecision } from './upstream/cache.ts';
export { classifyUpstreamAnswer } from './upstream/classify.ts';
export { probeViaCodexCli } from './upstream/codex-cli-probe.ts';
export { decodeJwtClaims } from './upstream/jwt.ts';
export { refreshTokens } from './upstream/oauth.ts';
export { parseCodexHeaders, parseUsagePayload } from './upstream/parse.ts';
export { probeAccount } from './upstream/probe.ts';
export { probeAll } from './upstream/probe-runner.ts';
export { probeViaResponses } from './upstream/responses-probe.ts';
