#!/usr/bin/env node
import { dieWithParent, needsHeapLimits, relaunchWithHeapLimits } from '../monitor/heap.ts';
import { buildProgram } from './program.ts';

try {
  // The collector runs with bounded heap limits, which only a fresh process can take.
  if (needsHeapLimits(process.argv)) process.exit(await relaunchWithHeapLimits(process.argv));
  dieWithParent();
  const program = await buildProgram(process.argv);
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`codex-fleet: ${(error as Error).message}`);
  process.exitCode = 1;
}
