// The server's view of the core: the views live in src/core/views.ts and the one service is
// src/core/fleet-service.ts (kept here so route modules keep one short import path).
export type { FleetService } from '../core/fleet-service.ts';
export * from '../core/views.ts';
