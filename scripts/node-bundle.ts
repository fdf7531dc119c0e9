// How this project bundles code for Node: one ESM file per entry (or chunk) with its dependencies inside, for
// the oldest Node the launcher must still parse on. scripts/build.ts builds dist/ with it, and the collector
// benchmark's floor process (bench/monitor-e2e.ts) is bundled the same way, so the two load alike.
import type { BuildOptions } from 'esbuild';

export const NODE_BUNDLE = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies are bundled too: resolving packages in node_modules at every start costs more than the
  // code. Bundled CommonJS dependencies call require() for Node built-ins, so each output file gets one.
  banner: {
    js: "import { createRequire as __cfRequire } from 'node:module'; const require = __cfRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
} as const satisfies BuildOptions;
