// A command's output written to fd 1 with fs.writeSync, without creating process.stdout: creating it loads
// Node's stream classes (and for a pipe, net), ~9% of a cached report's CPU. On Linux process.stdout writes
// synchronously to files, pipes and terminals anyway, so the bytes and their order are the same.
const { writeSync } = process.getBuiltinModule('node:fs');

/**
 * Writes text to stdout. A reader that closed the pipe (`report --json | head -c 10`) has enough: the rest is
 * dropped quietly, as main.ts does for the streams. A non-blocking fd (inherited from a parent that made it
 * so) that is full hands the rest to process.stdout, which waits for it to drain.
 */
export function writeStdout(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(written));
  }
}
