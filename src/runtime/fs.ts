// node:fs and node:fs/promises taken from the loaded built-ins instead of through ESM imports. An ESM import of
// either reads every export, and the getters behind them load fs/promises (with readline), the fs streams and
// the file watchers: ~2.5% of a cached report's CPU, which uses none of them (paired A/B, 31 runs).

/** node:fs, loaded with Node itself. */
export const fs: typeof import('node:fs') = process.getBuiltinModule('node:fs');

/** node:fs/promises, loaded on first use. */
export const fsPromises = (): typeof import('node:fs/promises') => process.getBuiltinModule('node:fs/promises');
