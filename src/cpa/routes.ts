// The two generations of CPA's management API. The client and the simulator's emulation both read
// this table, so a route name is written once.
export const CPA_GENERATIONS = ['v8', 'v0'] as const;
export type CpaGeneration = (typeof CPA_GENERATIONS)[number];

export interface CpaRoutes {
  /** GET list (filters ?name= / ?auth_index=), DELETE (repeated ?name= or {"names":[…]}). */
  authFiles: string;
  /** PATCH {name, disabled}. */
  authFileStatus: string;
  /** GET ?name= → the raw auth file. */
  authFileDownload: string;
  /** POST {auth_index, method, url, header, data}. */
  apiCall: string;
  /** GET ?count=N pops up to N usage records. */
  usageQueue: string;
  /** GET the server config (holds client API keys: only named fields are ever read from it). */
  config: string;
}

export const CPA_ROUTES: Record<CpaGeneration, CpaRoutes> = {
  v0: {
    authFiles: '/v0/management/auth-files',
    authFileStatus: '/v0/management/auth-files/status',
    authFileDownload: '/v0/management/auth-files/download',
    apiCall: '/v0/management/api-call',
    usageQueue: '/v0/management/usage-queue',
    config: '/v0/management/config',
  },
  v8: {
    authFiles: '/v8/management/credentials',
    authFileStatus: '/v8/management/credentials/status',
    authFileDownload: '/v8/management/credentials/download',
    apiCall: '/v8/management/requests/api-call',
    usageQueue: '/v8/management/observability/usage/queue',
    // Not among the renamed routes we know of: assumed unchanged under the v8 prefix.
    config: '/v8/management/config',
  },
};
