// Starts the REAL CLIProxyAPI v7.2.140 from ../shared/cpa/ on a free loopback port in a temp workdir,
// and writes codex auth files for it. Every test that starts one must call stop() in teardown.
// Ban safety: the key is random per instance and only the right key is used here.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { unavailable } from './real-server.ts';
import { waitFor } from './wait.ts';

/** `shared/cpa/start.sh` beside the checkout, or beside one of its parents (a worktree sits deeper). */
function findStartScript(): string {
  const tried: string[] = [];
  for (let dir = resolve(import.meta.dirname, '../../..'); ; dir = dirname(dir)) {
    const script = join(dir, 'shared/cpa/start.sh');
    if (existsSync(script)) return script;
    tried.push(script);
    if (dirname(dir) === dir) return tried[0];
  }
}
const START_SCRIPT = findStartScript();

export interface StartedCpa {
  url: string;
  key: string;
  workDir: string;
  authDir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartCpaOptions {
  /** OpenAI-compatible upstream such as http://127.0.0.1:N/v1 (model "sim-model", client key "test-client-key"). */
  upstreamBaseUrl?: string;
  /** Another start script (default ../shared/cpa/start.sh, or $CODEX_FLEET_TEST_CPA_START). */
  startScript?: string;
}

/** The client API key start.sh configures for /v1 requests through CPA. */
export const CPA_CLIENT_KEY = 'test-client-key';

const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export async function startCpa(options: StartCpaOptions = {}): Promise<StartedCpa> {
  const script = options.startScript ?? process.env.CODEX_FLEET_TEST_CPA_START ?? START_SCRIPT;
  if (!existsSync(script)) throw new Error(`CPA start script not found at ${script}`);
  const workDir = await mkdtemp(join(tmpdir(), 'codex-fleet-cpa-'));
  const key = `mgmt-${randomBytes(12).toString('hex')}`;
  const env = { ...process.env };
  if (options.upstreamBaseUrl) env.UPSTREAM_BASE_URL = options.upstreamBaseUrl;
  else delete env.UPSTREAM_BASE_URL;
  let lastError: unknown;
  // A port picked free can be taken before CPA binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const out = await run(script, [workDir, String(port), key], env);
      const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
      const url = /url=(\S+)/.exec(out)?.[1];
      if (!pid || !url) throw new Error(`unexpected start.sh output: ${out}`);
      running.add(pid);
      const stop = async () => {
        await killAndWait(pid);
        running.delete(pid);
        await rm(workDir, { recursive: true, force: true });
      };
      return { url, key, workDir, authDir: join(workDir, 'auths'), pid, stop };
    } catch (err) {
      lastError = err;
    }
  }
  await rm(workDir, { recursive: true, force: true });
  throw lastError;
}

/** Starts CPA or returns why it cannot run, printed loudly so a skip is never silent (in CI: throws). */
export async function tryStartCpa(options: StartCpaOptions = {}): Promise<StartedCpa | { skip: string }> {
  try {
    return await startCpa(options);
  } catch (err) {
    return { skip: unavailable('the real CPA', (err as Error).message) };
  }
}

export interface CodexAuthFileSpec {
  email: string;
  /** File name; default codex-<email>.json, as CPA names them. */
  name?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  accountId?: string;
  disabled?: boolean;
  /** Extra fields kept in the file (CPA must preserve unknown fields). */
  extra?: Record<string, unknown>;
}

/** Writes a CPA codex auth file with a far-future expiry, so CPA never refreshes it against the internet. */
export async function writeCodexAuthFile(
  authDir: string,
  spec: CodexAuthFileSpec,
): Promise<{ name: string; path: string }> {
  const name = spec.name ?? `codex-${spec.email}.json`;
  const path = join(authDir, name);
  const content = {
    type: 'codex',
    email: spec.email,
    id_token: spec.idToken ?? `id-${randomBytes(8).toString('hex')}`,
    access_token: spec.accessToken ?? `at-${randomBytes(16).toString('hex')}`,
    refresh_token: spec.refreshToken ?? `rt-${randomBytes(16).toString('hex')}`,
    account_id: spec.accountId ?? `acct-${randomBytes(4).toString('hex')}`,
    last_refresh: '2026-01-01T00:00:00Z',
    expired: '2099-01-01T00:00:00Z',
    disabled: spec.disabled ?? false,
    ...spec.extra,
  };
  await writeFile(path, JSON.stringify(content, null, 2), { mode: 0o600 });
  return { name, path };
}

/** Waits until CPA's watcher has picked up (or dropped) the named files. Uses the right key only. */
export async function waitForAuthFiles(
  cpa: Pick<StartedCpa, 'url' | 'key'>,
  names: readonly string[],
  opts: { present?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const present = opts.present ?? true;
  await waitFor(
    async () => {
      const res = await fetch(`${cpa.url}/v0/management/auth-files`, {
        headers: { Authorization: `Bearer ${cpa.key}` },
      });
      if (res.status === 401) throw new Error('CPA rejected the test key: stopping before a ban');
      const body = (await res.json()) as { files?: Array<{ name: string }> };
      const listed = (body.files ?? []).map((f) => f.name);
      return { ok: names.every((n) => listed.includes(n) === present), seen: `CPA lists [${listed.join(', ')}]` };
    },
    {
      what: `CPA to ${present ? 'list' : 'drop'} ${names.join(', ')}`,
      timeoutMs: opts.timeoutMs ?? 30_000,
      intervalMs: 100,
    },
  );
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      // Not err.message: it repeats the command line, which carries the management key.
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      if (err) fail(new Error(`start script failed (exit ${err.code ?? err.signal ?? '?'})${tail ? `: ${tail}` : ''}`));
      else ok(stdout);
    });
  });
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  try {
    await waitFor(gone, { what: `CPA pid ${pid} to exit after SIGTERM`, timeoutMs: 5_000, intervalMs: 50 });
  } catch {
    // It ignored SIGTERM: end it for sure.
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
