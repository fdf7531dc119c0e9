// Programmatic API: the CLI and the HTTP server are two thin callers of these.
export * from './domain/account.ts';
export * from './domain/quota.ts';
export * from './domain/time.ts';
