// A plain command line (nothing but the command's own long options, each with its value) read without
// commander: loading commander and registering the command cost a cached `report` ~3% of its start.
// Anything else (help, a short flag, a flag whose value is optional, a positional, a value that looks like a
// flag, an unknown or misspelt option) gives null, and commander parses it as before, so help and every error
// read the same. A test keeps the options equal to what commander makes of the same line.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { OptionSpec } from './shared-args.ts';

// Taken from the loaded built-in: an ESM import of node:util reads every export, which costs more (~9 ms of
// CPU) than commander itself.
const { parseArgs } = process.getBuiltinModule('node:util');

export type PlainOptions = Record<string, string | boolean>;

/** A command module that can run without commander: its options as data and what it does with them. */
export interface PlainCommand {
  OPTIONS: readonly OptionSpec[];
  action(options: PlainOptions): Promise<void>;
}

/** `--name` or `--name <value>`; other shapes (short flags, `[value]`, `--no-x`) are commander's alone. */
const PLAIN_FLAGS = /^--([a-z][a-z0-9-]*)( <[^>]+>)?$/;

/** commander's attribute name: `--retry-delay` → `retryDelay`. */
const attributeName = (long: string) => long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parsePlainArgs(args: readonly string[], specs: readonly OptionSpec[]): PlainOptions | null {
  const config: ParseArgsOptionsConfig = {};
  const result: PlainOptions = {};
  for (const spec of specs) {
    const match = PLAIN_FLAGS.exec(spec.flags);
    if (!match || match[1].startsWith('no-')) continue;
    config[match[1]] = { type: match[2] ? 'string' : 'boolean' };
    if (spec.default !== undefined) result[attributeName(match[1])] = spec.default;
  }
  let values: ReturnType<typeof parseArgs>['values'];
  try {
    // strict: an unknown option, a value given to a flag, a missing value, a value starting with '-' or any
    // positional throws, and commander takes the line.
    ({ values } = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: false }));
  } catch {
    return null;
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'boolean') result[attributeName(name)] = value;
  }
  return result;
}
