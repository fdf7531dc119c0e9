// One rule for every command's `--json`: indented for a person at a terminal, one line for a program (a pipe or
// a file: jq, a log shipper, `>> runs.jsonl`). The line is also a third smaller and, written once by a fresh
// process, about three times faster to produce (V8 has no fast path for an indented JSON.stringify).
const { isatty } = process.getBuiltinModule('node:tty');

/** value as JSON text for stdout, without a trailing newline. `indent` defaults to "stdout is a terminal". */
export function jsonOutput(value: unknown, indent: boolean = isatty(1)): string {
  return indent ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}
