// How this project bundles code for Node (rolldown): ESM files with every dependency inside, for the oldest
// Node the launcher must still parse on. scripts/build.ts builds dist/ with it, and the collector
// benchmark's floor process (bench/monitor-e2e.ts) is bundled the same way, so the two load alike.
// Dependencies are bundled too: resolving packages in node_modules at every start costs more than the code.
// A bundled CommonJS dependency that requires a Node built-in gets a require made on first use
// (createRequire), so no file pays for one it does not call.
import type { InputOptions, OutputOptions } from 'rolldown';

export const NODE_INPUT = {
  platform: 'node',
  transform: { target: 'node20' },
  logLevel: 'warn',
} as const satisfies InputOptions;

export const NODE_OUTPUT = {
  format: 'esm',
  // License headers stay in the dependencies' own packages; the bundle is for running.
  comments: { legal: false, jsdoc: false, annotation: true },
} as const satisfies OutputOptions;
