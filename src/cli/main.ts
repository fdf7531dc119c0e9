#!/usr/bin/env node
import { buildProgram } from './program.ts';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`codex-fleet: ${(error as Error).message}`);
  process.exitCode = 1;
}
