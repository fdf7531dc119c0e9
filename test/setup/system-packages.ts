// Installs the Debian packages whose real servers the tests talk to, once, before the runner starts
// (apt-get cannot run in parallel from several test files).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MissingPackage {
  name: string;
  why: string;
}

interface SystemNeed {
  name: string;
  packages: string[];
  present: () => boolean;
}

export function findPostgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `${base}/${v}/bin`;
    if (existsSync(`${bin}/postgres`) && existsSync(`${bin}/initdb`)) return bin;
  }
  return null;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const NEEDS: SystemNeed[] = [
  { name: 'redis-server', packages: ['redis-server'], present: () => hasCommand('redis-server') },
  { name: 'postgresql', packages: ['postgresql'], present: () => findPostgresBin() !== null },
  { name: 'chromium', packages: ['chromium'], present: () => existsSync('/usr/bin/chromium') },
  // The completion test loads the generated scripts in each real shell.
  { name: 'zsh', packages: ['zsh'], present: () => hasCommand('zsh') },
  { name: 'fish', packages: ['fish'], present: () => hasCommand('fish') },
];

const APT_LOCK = join(tmpdir(), 'codex-fleet-test-apt.lock');
/** Installs the packages given as arguments that dpkg does not already have. */
const INSTALL_SCRIPT = `missing=""
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
apt-get update -qq && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing`;

export function ensureSystemPackages(): MissingPackage[] {
  const absent = NEEDS.filter((n) => !n.present());
  if (absent.length === 0) return [];
  const packages = absent.flatMap((n) => n.packages);
  console.error(`test setup: installing ${packages.join(', ')} with apt-get (once per machine)…`);
  try {
    // Two suites starting at once on a new machine (the flake check's copy beside) raced for apt's lock,
    // and `apt-get update` does not wait for it: the loser's tests were skipped, or failed in CI. A lock
    // of our own serializes the installs, and whatever the first one installed is not installed again.
    execFileSync('flock', ['-w', '900', APT_LOCK, 'sh', '-c', INSTALL_SCRIPT, 'sh', ...packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    return absent.map((n) => ({ name: n.name, why: (error as Error).message.split('\n')[0] }));
  }
  return absent.filter((n) => !n.present()).map((n) => ({ name: n.name, why: 'apt-get finished but it is absent' }));
}
