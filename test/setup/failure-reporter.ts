// A node:test reporter that writes one JSON line per failed test (name, file, line, the error's start)
// and nothing else, so the flake check can say which test failed in which run.
// Used beside the spec reporter: --test-reporter=./test/setup/failure-reporter.ts --test-reporter-destination=FILE
import type { TestEvent } from 'node:test/reporters';

interface Failure {
  name: string;
  file?: string;
  line?: number;
  error: string;
}

function errorText(error: unknown): string {
  const e = error as { cause?: unknown; message?: string } | undefined;
  const inner = (e?.cause as { message?: string } | undefined)?.message ?? e?.message ?? String(error);
  const text = inner.replace(/\s+/g, ' ').trim();
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

export default async function* failureReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, line, details } = event.data;
    const error = details.error as { failureType?: string; cause?: unknown };
    // A suite fails when a test inside it does: that test is reported on its own.
    if (error?.failureType === 'subtestsFailed') continue;
    const failure: Failure = { name, file, line, error: errorText(error) };
    yield `${JSON.stringify(failure)}\n`;
  }
}
