// The CPA harness itself: a CPA that cannot start is a loud skip reason on a developer's machine and a
// failure in CI, never a hang or a crash.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { tryStartCpa } from './cpa.ts';
import { RealServerMissing } from './real-server.ts';

const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

test('off CI, a missing or failing start script gives a skip reason', async () => {
  delete process.env.CI;
  const missing = await tryStartCpa({ startScript: '/nonexistent/start.sh' });
  assert.ok('skip' in missing);
  assert.match(missing.skip, /the real CPA unavailable: CPA start script not found at \/nonexistent\/start\.sh/);
  const failing = await tryStartCpa({ startScript: '/bin/false' });
  assert.ok('skip' in failing);
  assert.match(failing.skip, /start script failed \(exit 1\)/);
  assert.ok(!failing.skip.includes('mgmt-'), 'the generated key is not in the message');
});

test('in CI, a CPA that cannot start fails the test', async () => {
  process.env.CI = 'true';
  await assert.rejects(
    tryStartCpa({ startScript: '/bin/false' }),
    (e: Error) => e instanceof RealServerMissing && !e.message.includes('mgmt-'),
  );
});
