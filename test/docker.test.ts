// The Docker image without a Docker engine: lint the Dockerfile (dockerfile-ast) and docker-compose.yml,
// then run the image's exact start command (ENTRYPOINT + CMD, with the ENV it sets) as a process here:
// /healthz answers 200 and the HEALTHCHECK command passes; without the admin key it refuses to start.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Instruction, type JSONInstruction, type ModifiableInstruction } from 'dockerfile-ast';
import { parseYaml, type YamlValue } from './support/mini-yaml.ts';
import { freePort } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dockerfileText = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-docker-'));
const procs: ChildProcess[] = [];
// The start command runs the built output (dist/), as in the image.
before(() => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.ts')], { encoding: 'utf8' });
  assert.equal(built.status, 0, `scripts/build.ts: ${built.stderr}`);
});
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Instructions grouped by stage (each FROM starts one). */
function stages(): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of dockerfile.getInstructions()) {
    if (ins.getKeyword() === 'FROM') out.push([]);
    if (out.length === 0) continue; // ARGs before the first FROM
    out[out.length - 1].push(ins);
  }
  return out;
}
const finalStage = () => stages().at(-1)!;
const inFinal = (keyword: string) => finalStage().filter((i) => i.getKeyword() === keyword);
const jsonArgs = (ins: Instruction): string[] =>
  'getJSONStrings' in ins ? (ins as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue()) : [];
/** The stage a COPY copies from (--from=…), or null for the build context. */
const copyFrom = (ins: Instruction): string | null =>
  (ins as ModifiableInstruction)
    .getFlags()
    .find((f) => f.getName() === 'from')
    ?.getValue() ?? null;
/** Non-flag arguments of an instruction (COPY --from=x a b → [a, b]). */
const plainArgs = (ins: Instruction) =>
  ins
    .getArguments()
    .map((a) => a.getValue())
    .filter((v) => !v.startsWith('--'));

/** ENV of the final stage (ENV A=1 \ B=2 form). */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of inFinal('ENV')) {
    for (const arg of ins.getArguments()) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(arg.getValue());
      if (m) env[m[1]] = m[2];
    }
  }
  return env;
}

/** The image's start command: ENTRYPOINT + CMD, both in exec (JSON) form. */
function startCommand(): string[] {
  const entry = inFinal('ENTRYPOINT');
  const cmd = inFinal('CMD');
  assert.equal(cmd.length, 1, 'one CMD in the final stage');
  const cmdArgs = jsonArgs(cmd[0]);
  assert.ok(cmdArgs.length > 0, 'CMD is in exec (JSON) form, so signals reach node');
  const entryArgs = entry.length > 0 ? jsonArgs(entry.at(-1)!) : [];
  if (entry.length > 0) assert.ok(entryArgs.length > 0, 'ENTRYPOINT is in exec (JSON) form');
  return [...entryArgs, ...cmdArgs];
}

describe('Dockerfile', () => {
  it('is multi-stage and the final stage runs on the Node LTS line the tests run on', () => {
    const froms = dockerfile.getFROMs();
    assert.ok(froms.length >= 2, 'at least a build stage and a runtime stage');
    const names = froms.map((f) => f.getBuildStage()).filter(Boolean);
    const copiesFromStage = inFinal('COPY').filter((c) => copyFrom(c) !== null);
    assert.ok(copiesFromStage.length > 0, 'the runtime stage copies from a build stage');
    for (const c of copiesFromStage) {
      const from = copyFrom(c)!;
      assert.ok(names.includes(from), `COPY --from=${from} names an earlier stage`);
    }
    const last = froms.at(-1)!;
    assert.equal(last.getImageName(), 'node');
    const major = Number(/^(\d+)/.exec(last.getImageTag() ?? '')?.[1]);
    assert.ok(major >= 22 && major % 2 === 0, `an LTS (even) Node major, not ${last.getImageTag()}`);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      engines: { node: string };
    };
    const tested = Number(/(\d+)/.exec(pkg.devDependencies.node)?.[1]);
    assert.equal(major, tested, 'the image runs the Node major the test suite runs on');
    assert.ok(Number(/(\d+)/.exec(pkg.engines.node)?.[1]) <= major, 'within package.json engines');
  });

  it('runs as a non-root user, with a data volume, port 8081 and a /healthz healthcheck', () => {
    const users = inFinal('USER');
    assert.ok(users.length > 0, 'a USER in the final stage');
    const user = users.at(-1)!.getArgumentsContent()!.split(':')[0];
    assert.ok(!['root', '0'].includes(user), `non-root user, got ${user}`);

    const volumes = inFinal('VOLUME').flatMap((v) => {
      const j = jsonArgs(v);
      return j.length > 0 ? j : plainArgs(v);
    });
    assert.ok(volumes.includes('/app/data'), `VOLUME /app/data, got ${volumes}`);
    assert.equal(imageEnv().CODEX_FLEET_DATA_DIR, '/app/data', 'the data directory is the volume');

    const exposed = inFinal('EXPOSE').flatMap(plainArgs);
    assert.ok(exposed.includes('8081'), `EXPOSE 8081, got ${exposed}`);
    const cmd = startCommand();
    assert.equal(cmd[cmd.indexOf('--port') + 1], '8081', 'the server listens on the exposed port');
    assert.equal(cmd[cmd.indexOf('--host') + 1], '0.0.0.0', 'reachable from outside the container');

    const checks = inFinal('HEALTHCHECK');
    assert.equal(checks.length, 1);
    const content = checks[0].getArgumentsContent() ?? '';
    assert.match(content, /CMD/);
    assert.match(content, /127\.0\.0\.1:8081\/healthz/);
  });

  it('never ADDs a URL, and every COPY source exists and is not excluded by .dockerignore', () => {
    for (const ins of dockerfile.getInstructions()) {
      if (ins.getKeyword() !== 'ADD') continue;
      for (const src of plainArgs(ins).slice(0, -1)) assert.doesNotMatch(src, /^[a-z]+:\/\//i, `ADD ${src}`);
    }
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.includes('*'));
    let checked = 0;
    for (const ins of dockerfile.getInstructions()) {
      if (ins.getKeyword() !== 'COPY' || copyFrom(ins) !== null) continue;
      const args = jsonArgs(ins).length > 0 ? jsonArgs(ins) : plainArgs(ins);
      for (const src of args.slice(0, -1)) {
        const clean = src.replace(/\/$/, '');
        assert.ok(existsSync(join(root, clean)), `COPY source ${src} exists in the repository`);
        for (const pattern of ignored) {
          const p = pattern.replace(/^\//, '').replace(/\/$/, '');
          assert.ok(clean !== p && !clean.startsWith(`${p}/`), `COPY ${src} is excluded by .dockerignore (${pattern})`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 4, `COPY sources checked: ${checked}`);
    for (const ins of inFinal('ENTRYPOINT')) {
      const [entry] = jsonArgs(ins);
      const local = join(root, entry.replace(/^\/app\//, ''));
      assert.ok(existsSync(local), `ENTRYPOINT ${entry} is in the repository`);
      assert.ok((statSync(local).mode & 0o111) !== 0, `${entry} is executable`);
    }
  });
});

describe('Dockerfile build', () => {
  it('the start command runs the built output, which a build stage makes and the runtime copies', () => {
    const cmd = startCommand();
    assert.ok(cmd.includes('dist/codex-fleet.js'), `CMD runs dist/codex-fleet.js: ${cmd.join(' ')}`);
    assert.ok(!cmd.some((a) => a.endsWith('.ts')), 'no TypeScript at run time');
    const builder = stages().find((st) =>
      st.some(
        (i) =>
          i.getKeyword() === 'RUN' &&
          /\bnpm run build\b|\bnode scripts\/build\.ts\b/.test(i.getArgumentsContent() ?? ''),
      ),
    );
    assert.ok(builder, 'a stage runs the build (npm run build or node scripts/build.ts)');
    const name = (builder[0] as unknown as { getBuildStage(): string | null }).getBuildStage();
    const copied = inFinal('COPY').find((c) => copyFrom(c) === name && plainArgs(c)[0] === '/app/dist');
    assert.ok(copied, `the runtime stage copies /app/dist from ${name}`);
  });

  it('the production-dependency stage works: its npm ci --omit=dev runs in a copy of what it copies', () => {
    const deps = stages().find((st) =>
      st.some((i) => i.getKeyword() === 'RUN' && /npm ci\b.*--omit=dev/.test(i.getArgumentsContent() ?? '')),
    );
    assert.ok(deps, 'a stage runs npm ci --omit=dev');
    const ctx = join(tmp, 'deps-context');
    for (const ins of deps.filter((i) => i.getKeyword() === 'COPY' && copyFrom(i) === null)) {
      const args = plainArgs(ins);
      for (const src of args.slice(0, -1)) cpSync(join(root, src), join(ctx, src), { recursive: true });
    }
    for (const ins of deps.filter((i) => i.getKeyword() === 'RUN')) {
      // Each step of the RUN as written, except cleaning npm's cache (that would empty this machine's).
      const steps = (ins.getArgumentsContent() ?? '').split('&&').map((s) => s.trim());
      for (const step of steps.filter((s) => !s.startsWith('npm cache clean'))) {
        const r = spawnSync('sh', ['-c', step], {
          cwd: ctx,
          encoding: 'utf8',
          timeout: 300_000,
          env: {
            ...process.env,
            npm_config_prefer_offline: 'true',
            npm_config_audit: 'false',
            npm_config_fund: 'false',
          },
        });
        assert.equal(r.status, 0, `${step} failed in a copy of the build context:\n${r.stderr}`);
      }
    }
    for (const dep of ['preact', 'htm']) assert.ok(existsSync(join(ctx, 'node_modules', dep)), `${dep} is installed`);
    assert.ok(!existsSync(join(ctx, 'node_modules', 'typescript')), 'no devDependency is installed');
  });
});

describe('docker-compose.yml', () => {
  const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const doc = parseYaml(text) as { [k: string]: YamlValue };
  const services = doc.services as { [k: string]: { [k: string]: YamlValue } };

  it('runs codex-fleet with ./account mounted, a data volume and a required admin key', () => {
    const app = services['codex-fleet'];
    assert.ok(app, 'a codex-fleet service');
    assert.equal(app.build, '.');
    const volumes = app.volumes as string[];
    assert.ok(volumes.includes('./account:/app/account'), `./account:/app/account, got ${volumes}`);
    const data = volumes.find((v) => v.endsWith(':/app/data'));
    assert.ok(data, 'a volume on /app/data');
    const named = data.split(':')[0];
    assert.ok(doc.volumes && named in (doc.volumes as object), `named volume ${named} is declared`);
    const ports = app.ports as string[];
    assert.ok(
      ports.some((p) => p.endsWith(':8081')),
      `publishes the container port 8081: ${ports}`,
    );
    assert.ok(
      ports.every((p) => p.startsWith('127.0.0.1:')),
      'published on the host loopback only',
    );
    const env = app.environment as Record<string, string>;
    assert.match(
      env.CODEX_FLEET_ADMIN_KEY,
      /^\$\{CODEX_FLEET_ADMIN_KEY:\?/,
      'compose refuses to start without the key',
    );
    assert.equal(
      env.CODEX_FLEET_DATABASE_URL,
      undefined,
      'no empty database URL by default (SQLite stays the default)',
    );
  });

  it('has an optional postgres profile that the app can be pointed at', () => {
    const pg = services.postgres;
    assert.ok(pg, 'a postgres service');
    assert.deepEqual(pg.profiles, ['postgres']);
    assert.match(String(pg.image), /^postgres:\d+/);
    assert.ok(pg.healthcheck, 'a healthcheck, so the app waits for it');
    const dep = (services['codex-fleet'].depends_on as { [k: string]: { [k: string]: YamlValue } }).postgres;
    assert.equal(dep.required, false, 'the dependency is optional (profile off: SQLite)');
    assert.equal(dep.condition, 'service_healthy');
    const pgEnv = pg.environment as Record<string, string>;
    // The URL the comment tells the operator to uncomment must match the database the profile creates.
    const m = /#\s*CODEX_FLEET_DATABASE_URL:\s*postgres:\/\/([^:]+):[^@]+@postgres:5432\/(\S+)/.exec(text);
    assert.ok(m, 'the compose file shows the PostgreSQL URL to use');
    assert.equal(m[1], pgEnv.POSTGRES_USER);
    assert.equal(m[2], pgEnv.POSTGRES_DB);
  });
});

describe("the image's start command, outside Docker", () => {
  const adminKey = 'docker-test-admin-key-0123456789abcdef';
  /** ENTRYPOINT + CMD with the image's ENV, /app paths mapped into a temp dir and a free port. */
  const launch = (port: number, env: Record<string, string | undefined>) => {
    const [exe, ...args] = startCommand().map((a) => (a === '8081' ? String(port) : a));
    const appDir = join(tmp, `app-${port}`);
    const imageVars = Object.fromEntries(
      Object.entries(imageEnv()).map(([k, v]) => [k, v.replace(/^\/app\//, `${appDir}/`)]),
    );
    const child = spawn(exe.startsWith('/app/') ? join(root, exe.slice(5)) : exe, args, {
      cwd: root, // WORKDIR /app
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: appDir,
        ...imageVars,
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, exited, stderr: () => stderr };
  };

  it('serves /healthz with the admin key set, the HEALTHCHECK command passes, SIGTERM stops it cleanly', async () => {
    const port = await freePort();
    const run = launch(port, { CODEX_FLEET_ADMIN_KEY: adminKey });
    const res = await waitFor(
      async () => {
        if (run.child.exitCode !== null) assert.fail(`the server exited: ${run.stderr()}`);
        return fetch(`http://127.0.0.1:${port}/healthz`);
      },
      {
        what: `an answer on /healthz (stderr: ${run.stderr()})`,
        intervalMs: 100,
        retryOnError: (e) => !(e instanceof assert.AssertionError),
      },
    );
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
    assert.doesNotMatch(run.stderr(), new RegExp(adminKey), 'the admin key is never logged');

    // The HEALTHCHECK exactly as written, pointed at this port.
    const hcText = inFinal('HEALTHCHECK')[0].getRawArgumentsContent() ?? '';
    const hc = JSON.parse(/CMD\s+(\[.*\])/s.exec(hcText.replace(/\\\n/g, ' '))![1]) as string[];
    const [hcExe, ...hcArgs] = hc.map((a) => a.replace(':8081/', `:${port}/`));
    const check = spawnSync(hcExe === 'node' ? process.execPath : hcExe, hcArgs, { timeout: 10_000 });
    assert.equal(check.status, 0, `healthcheck passes while up: ${check.stderr}`);

    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, `clean exit on SIGTERM: ${run.stderr()}`);
    const down = spawnSync(process.execPath, hcArgs, { timeout: 10_000 });
    assert.equal(down.status, 1, 'healthcheck fails once the server is gone');
  });

  it('refuses to start without CODEX_FLEET_ADMIN_KEY, saying what to set', async () => {
    const port = await freePort();
    const run = launch(port, { CODEX_FLEET_ADMIN_KEY: undefined });
    const code = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /CODEX_FLEET_ADMIN_KEY is not set/);
    assert.match(run.stderr(), /openssl rand -hex 24/);
    assert.equal(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null), null, 'nothing listens');
    assert.equal(existsSync(join(tmp, `app-${port}`, 'data', 'admin-key')), false, 'no key was generated');
  });

  it('refuses a too-short admin key with the server’s own message', async () => {
    const port = await freePort();
    const run = launch(port, { CODEX_FLEET_ADMIN_KEY: 'short' });
    assert.notEqual(await run.exited, 0);
    assert.match(run.stderr(), /CODEX_FLEET_ADMIN_KEY is too short/);
  });
});
