// The one decision every tier makes when a real server (Redis, PostgreSQL, Chromium, the CPA binary,
// the Codex CLI) cannot be had: in CI (`CI=true`) the test fails, because a skipped test proves
// nothing and a green CI run must mean every tier ran; on a developer's machine it skips, loudly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** True when running under CI: `CI` set to anything but "", "0" or "false" (as CI services set it). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

export class RealServerMissing extends Error {
  constructor(server: string, why: string) {
    super(`${server} is required in CI (CI=true) but cannot run here: ${why}`);
    this.name = 'RealServerMissing';
  }
}

/**
 * `server` cannot run here because of `why`. In CI this throws (the test file or hook fails); elsewhere
 * it prints a loud banner and returns the skip reason to pass to `{ skip }`.
 */
export function unavailable(server: string, why: string, env: NodeJS.ProcessEnv = process.env): string {
  if (inCi(env)) throw new RealServerMissing(server, why);
  const reason = `${server} unavailable: ${why}`;
  console.error(`\n!!! ${reason}; tests that need it are SKIPPED (in CI they would fail)\n`);
  return reason;
}

/** The Codex CLI binary @openai/codex installs (or $CODEX_CLI_BIN). */
export const CODEX_CLI_BIN =
  process.env.CODEX_CLI_BIN ||
  join(import.meta.dirname, '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex');

/** The skip reason when the real Codex CLI is absent (a failure in CI), or false when it is there. */
export function codexCliMissing(bin: string = CODEX_CLI_BIN): string | false {
  return existsSync(bin) ? false : unavailable('the real Codex CLI', `${bin} is not installed (npm ci installs it)`);
}
