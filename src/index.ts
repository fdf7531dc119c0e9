// The public programmatic API: the one application core the CLI and the HTTP server call, its views,
// the configuration, and the pure rules it decides with. The simulator is a separate subpath export
// (`codex-fleet/sim`), so using the core never loads it.
// import { createFleetService, resolveConfig } from 'codex-fleet'

export { decideAction } from './actions/policy.ts';
export { type ConfigFlags, type FleetConfig, resolveConfig } from './core/config.ts';
export { PROBE_MODES, type ProbeMode, type QuotaCheck, type QuotaCheckOptions } from './core/fleet.ts';
export { createFleetService, FleetService, type FleetServiceOptions } from './core/fleet-service.ts';
export type { InspectionOptions, InspectionOutcome } from './core/inspection-run.ts';
export { type QuotaRow, toQuotaRow } from './core/quota-rows.ts';
export * from './core/views.ts';
export * from './domain/account.ts';
export * from './domain/inspection.ts';
export * from './domain/quota.ts';
export * from './domain/report.ts';
export * from './domain/time.ts';
export { buildForecast, renderForecastText } from './inspect/forecast.ts';
export { inspectAccount } from './inspect/inspection.ts';
export { buildHealthReport, renderHealthReportText } from './inspect/report.ts';
export { deriveStatus } from './inspect/status.ts';
export { classifyUpstreamAnswer } from './upstream/classify.ts';
export { parseCodexHeaders, parseUsagePayload } from './upstream/parse.ts';
