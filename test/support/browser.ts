// Launches Debian's Chromium through playwright-core for the browser tests, with a fresh profile and
// no background traffic. When /usr/bin/chromium is absent the tests are skipped, loudly (in CI: fail).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { unavailable } from './real-server.ts';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumMissing(): string | false {
  if (existsSync(CHROMIUM)) return false;
  return unavailable('Chromium', `${CHROMIUM} is absent (apt-get install chromium, or run npm test which installs it)`);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1360, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'codex-fleet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
