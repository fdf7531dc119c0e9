// A command's output written to fd 1 with fs.writeSync, without creating process.stdout: creating it loads
// Node's stream classes (and for a pipe, net: 9% of a cached report's CPU when stderr was a pipe). On Linux
// process.stdout writes synchronously to files, pipes and terminals anyway, so the bytes and their order are
// the same.
const { writeSync } = process.getBuiltinModule('node:fs');

/**
 * Writes text to stdout. A reader that closed the pipe (`report --json | head -c 10`) has enough: the rest is
 * dropped quietly, as main.ts does for the streams. A non-blocking fd (inherited from a parent that made it
 * so) that is full hands the rest to process.stdout, which waits for it to drain.
 */
export function writeStdout(text: string): void {
  let rest: Buffer | null = null;
  try {
    // The string itself first: no copy on the heap when it goes out whole, as it does to a file or a blocking pipe.
    const written = writeSync(1, text);
    if (written === Buffer.byteLength(text)) return;
    rest = Buffer.from(text).subarray(written);
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    // EAGAIN before anything was written: all of it.
    process.stdout.write(rest ?? text);
  }
}
