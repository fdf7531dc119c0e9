#!/usr/bin/env node
import { buildProgram } from './program.ts';

try {
  const program = await buildProgram(process.argv);
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`codex-fleet: ${(error as Error).message}`);
  process.exitCode = 1;
}
