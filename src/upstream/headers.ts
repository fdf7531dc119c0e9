// Request headers of the ChatGPT backend (UPSTREAM.md §1). Without `originator`, Cloudflare
// intermittently answers with an HTML challenge, so every request carries it.
import { arch as osArch, release as osRelease, type as osType } from 'node:os';

/** The Codex CLI version we identify as (the one observed in ../shared/codex-cli). */
export const CODEX_CLI_VERSION = '0.169.0';
export const ORIGINATOR = 'codex_cli_rs';

export interface HeaderTarget {
  accessToken: string;
  accountId: string | null;
}

export interface PlatformInfo {
  os: string;
  arch: string;
}

function normalizeArch(arch: string): string {
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  return arch;
}

export function currentPlatform(): PlatformInfo {
  return { os: `${osType()} ${osRelease()}`, arch: normalizeArch(osArch()) };
}

/** `codex_cli_rs/<version> (<os>; <arch>)`, the shape the official CLI sends. */
export function userAgent(version = CODEX_CLI_VERSION, platform: PlatformInfo = currentPlatform()): string {
  return `${ORIGINATOR}/${version} (${platform.os}; ${platform.arch})`;
}

/** Headers for GET {base}/…/usage. The account id header is omitted when unknown, as the CLI does. */
export function usageRequestHeaders(target: HeaderTarget, ua: string = userAgent()): Record<string, string> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${target.accessToken}`,
    originator: ORIGINATOR,
    'User-Agent': ua,
    Accept: 'application/json',
  };
  if (target.accountId) headers['ChatGPT-Account-Id'] = target.accountId;
  return headers;
}
