// The CPA harness itself: a CPA that cannot start is a loud skip reason, never a hang or a crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tryStartCpa } from './cpa.ts';

test('a missing or failing start script gives a skip reason', async () => {
  const missing = await tryStartCpa({ startScript: '/nonexistent/start.sh' });
  assert.ok('skip' in missing);
  assert.match(missing.skip, /start script not found at \/nonexistent\/start\.sh/);
  const failing = await tryStartCpa({ startScript: '/bin/false' });
  assert.ok('skip' in failing);
  assert.match(failing.skip, /real CPA cannot run here: start script failed \(exit 1\)/);
  assert.ok(!failing.skip.includes('mgmt-'), 'the generated key is not in the message');
});
