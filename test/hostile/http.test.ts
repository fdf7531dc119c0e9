// Hostile HTTP input against the real server over the real core and the simulator: generated form
// bodies (auth file saves, logins), query strings and path parameters, and headers (through fetch
// and as raw bytes on a socket). Every answer is a clear one (2xx/3xx, or 4xx with a message; never
// 5xx or a stack trace), the server keeps answering, and no account or auth file is lost or doubled.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiClient } from '../support/fleet-server.ts';
import { hostileString, SEED } from './generators.ts';
import { type RealApp, startRealApp } from './real-app.ts';

export const HTTP_RUNS = { forms: 100, logins: 40, queries: 100, unknownFields: 60, headers: 60, rawHeaders: 40 };
const KEY = 'hostile-suite-admin-key-0123456789';

let app: RealApp;
let keyed: RealApp;
let api: ApiClient;
let originals: Map<string, string>;
let accountIds: string[];
let counter = 0;

async function snapshotFiles(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
}

before(async () => {
  [app, keyed] = await Promise.all([startRealApp({ accounts: 6 }), startRealApp({ accounts: 2, adminKey: KEY })]);
  api = await new ApiClient(app.url).start();
  originals = await snapshotFiles(app.accountDir);
  accountIds = ((await api.json<{ accounts: Array<{ id: string }> }>('GET', '/api/accounts')).body.accounts ?? [])
    .map((a) => a.id)
    .sort();
  assert.equal(accountIds.length, 6);
});
after(() => Promise.all([app.close(), keyed.close()]));

/** A clear answer: no 5xx; a 4xx says what is wrong; nothing quotes a stack or a source path. */
async function assertClear(res: Response, what: string): Promise<void> {
  counter += 1;
  assert.ok(res.status < 500, `${what} → ${res.status} ${await res.clone().text()}`);
  const text = await res.text();
  assert.doesNotMatch(text, /\n\s+at |\/src\/|node:internal/, `${what} leaked a stack`);
  if (res.status >= 400) {
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('json')) {
      const error = (JSON.parse(text) as { error?: unknown }).error;
      assert.ok(typeof error === 'string' && error.length > 3, `${what}: a 4xx JSON answer has an error message`);
    } else assert.ok(text.trim().length > 3, `${what}: a 4xx answer says why`);
  }
}

/** Nothing lost or doubled: every original file unchanged, every account listed exactly once. */
async function assertIntact(what: string): Promise<void> {
  const now = await snapshotFiles(app.accountDir);
  for (const [name, text] of originals) assert.equal(now.get(name), text, `${what}: ${name} changed or vanished`);
  const res = await api.json<{ accounts: Array<{ id: string; disabled: boolean }> }>('GET', '/api/accounts');
  const ids = res.body.accounts.map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length, `${what}: an account is listed twice`);
  for (const id of accountIds) assert.ok(ids.includes(id), `${what}: account ${id} vanished`);
  assert.ok(
    res.body.accounts.every((a) => !a.disabled || !accountIds.includes(a.id)),
    `${what}: an account got disabled`,
  );
}

const opts = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });
const FORM_FIELDS = [
  'name',
  'format',
  'email',
  'account_id',
  'accountId',
  'access_token',
  'refresh_token',
  'id_token',
  'disabled',
  'mode',
  '_csrf',
  '__proto__',
  'constructor',
];
const formBody = fc.dictionary(fc.oneof(fc.constantFrom(...FORM_FIELDS), hostileString), hostileString, {
  maxKeys: 8,
});

describe('hostile form bodies', () => {
  it(`${HTTP_RUNS.forms} POST /auth/save forms: a clear answer each, the existing files untouched`, async () => {
    await fc.assert(
      fc.asyncProperty(formBody, fc.boolean(), async (fields, asJson) => {
        const body = asJson ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
        const res = await api.request('POST', '/auth/save', body, {
          'content-type': asJson ? 'application/json' : 'application/x-www-form-urlencoded',
        });
        await assertClear(res, `POST /auth/save ${body.slice(0, 80)}`);
      }),
      opts(HTTP_RUNS.forms),
    );
    await assertIntact('after the forms');
  });

  it(`${HTTP_RUNS.logins} hostile login forms: never a session without the key, never an off-site redirect`, async () => {
    const page = await fetch(`${keyed.url}/login`, { headers: { accept: 'text/html' } });
    const cookie = page.headers.get('set-cookie')!.split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
    await fc.assert(
      fc.asyncProperty(formBody, fc.boolean(), async (fields, withCsrf) => {
        const body = new URLSearchParams({ ...fields, ...(withCsrf ? { _csrf: csrf } : {}) }).toString();
        const res = await fetch(`${keyed.url}/login`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body,
          redirect: 'manual',
        });
        assert.notEqual(res.status, 303, `a login without the key succeeded: ${body}`);
        await assertClear(res, `POST /login ${body.slice(0, 80)}`);
      }),
      opts(HTTP_RUNS.logins),
    );
  });
});

describe('hostile query strings and path parameters', () => {
  const component = fc.oneof(
    hostileString.map((v) => encodeURIComponent(v.toWellFormed())),
    fc.constantFrom('%', '%zz', '%00', '%ff%fe', '%2e%2e%2f', '%252e', '&&&', '==', '?', '#', ';', '[]', 'a[b]=c'),
  );
  const target = fc.constantFrom(
    (v: string) => `/api/audit?limit=${v}`,
    (v: string) => `/api/audit?offset=${v}`,
    (v: string) => `/api/actions?limit=${v}`,
    (v: string) => `/api/inspections?limit=${v}&offset=${v}`,
    (v: string) => `/api/actions?status=${v}`,
    (v: string) => `/api/accounts/${v}`,
    (v: string) => `/api/inspections/${v}`,
    (v: string) => `/api/auth-files/${v}`,
    (v: string) => `/api/accounts?${v}=${v}`,
    (v: string) => `/login?next=${v}`,
    (v: string) => `/auth/edit?name=${v}`,
    (v: string) => `/healthz?${v}`,
    (v: string) => `/metrics?${v}`,
  );
  it(`${HTTP_RUNS.queries} GETs with hostile queries: a clear answer each, nothing changed`, async () => {
    await fc.assert(
      fc.asyncProperty(target, component, async (path, value) => {
        const url = path(value);
        const res = await fetch(`${app.url}${url}`, { redirect: 'manual' }).catch((error: Error) => {
          // fetch itself refuses some URLs; that is the client, not the server.
          assert.match(error.message, /URL|url|Invalid/);
          return null;
        });
        if (res) await assertClear(res, `GET ${url}`);
        else counter += 1;
      }),
      opts(HTTP_RUNS.queries),
    );
    await assertIntact('after the queries');
  });
});

describe('unknown fields', () => {
  // Every route that takes a query string or a JSON body, with what it accepts; one unknown field more.
  const KNOWN = new Set(
    'limit offset status wait name format email mode disabled accountId account_id accessToken refreshToken idToken intervalMinutes dailyTimes timeZone retentionDays spreadSeconds'.split(
      ' ',
    ),
  );
  const field = fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,15}$/).filter((k) => !KNOWN.has(k) && !k.includes('_token'));
  const route = fc.constantFrom(
    { method: 'GET', path: (k: string) => `/api/audit?limit=5&${k}=1` },
    { method: 'GET', path: (k: string) => `/api/actions?status=pending&${k}=1` },
    { method: 'GET', path: (k: string) => `/api/inspections?offset=0&${k}=1` },
    { method: 'POST', path: (k: string) => `/api/refresh?${k}=1` },
    { method: 'PUT', path: () => '/api/schedule', body: { mode: 'off', retentionDays: 30 } },
    {
      method: 'POST',
      path: () => '/api/auth-files',
      body: { name: 'hostile-unknown', accessToken: 'at_hostile_0123' },
    },
    { method: 'POST', path: () => '/auth/save', body: { name: 'hostile-unknown', access_token: 'at_hostile_0123' } },
  );
  it(`${HTTP_RUNS.unknownFields} requests with one unknown field: 400 naming it, nothing changed`, async () => {
    await fc.assert(
      fc.asyncProperty(route, field, async (r, key) => {
        const body = 'body' in r ? { ...r.body, [key]: 1 } : undefined;
        const res = await api.request(r.method, r.path(key), body);
        assert.equal(res.status, 400, `${r.method} ${r.path(key)} with ${key} → ${res.status}`);
        const { error } = (await res.clone().json()) as { error: string };
        assert.ok(error.includes(key), `${r.method} ${r.path(key)}: the error names ${key}: ${error}`);
        await assertClear(res, `${r.method} ${r.path(key)}`);
      }),
      opts(HTTP_RUNS.unknownFields),
    );
    await assertIntact('after the unknown fields');
  });
});

describe('hostile headers', () => {
  const headerValue = hostileString.filter((v) => /^[\x20-\x7e\x80-\xff]*$/.test(v) && v.trim() === v);
  const headerName = fc.constantFrom(
    'cookie',
    'origin',
    'referer',
    'sec-fetch-site',
    'x-csrf-token',
    'x-admin-key',
    'authorization',
    'content-type',
    'accept',
    'x-forwarded-for',
  );
  it(`${HTTP_RUNS.headers} requests with hostile headers: reads answer clearly, writes are refused`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(headerName, headerValue, { maxKeys: 4 }), fc.boolean(), async (headers, write) => {
        const id = accountIds[0];
        const res = write
          ? await fetch(`${app.url}/api/accounts/${id}/disable`, { method: 'POST', headers, redirect: 'manual' })
          : await fetch(`${app.url}/api/accounts`, { headers, redirect: 'manual' });
        if (write) assert.ok(res.status >= 400, `a forged write was accepted: ${JSON.stringify(headers)}`);
        await assertClear(res, `${write ? 'POST' : 'GET'} with ${JSON.stringify(headers)}`);
      }),
      opts(HTTP_RUNS.headers),
    );
    await assertIntact('after the headers');
  });

  /** One raw HTTP/1.1 request; resolves with the status line (or '' when the server closed the socket). */
  const raw = (bytes: Buffer) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(app.url);
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d.toString('latin1');
      });
      socket.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' ? resolve(data.split('\r\n')[0]) : reject(error),
      );
      socket.on('close', () => resolve(data.split('\r\n')[0]));
      socket.end(bytes);
    });

  it(`${HTTP_RUNS.rawHeaders} raw requests with arbitrary header bytes: 4xx or an answer, and the server lives on`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('GET /api/accounts', 'POST /api/inspections', 'GET /healthz', 'POST /auth/delete'),
        async (bytes, line) => {
          const head = Buffer.from(`${line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Hostile: `, 'latin1');
          const status = await raw(Buffer.concat([head, Buffer.from(bytes), Buffer.from('\r\n\r\n')]));
          counter += 1;
          const code = Number(/^HTTP\/1\.1 (\d{3})/.exec(status)?.[1] ?? 0);
          assert.ok(code === 0 || code < 500, `${line} with ${Buffer.from(bytes).toString('hex')} → ${status}`);
          if (line.startsWith('POST')) assert.ok(code === 0 || code >= 400, `${line} without a token → ${status}`);
        },
      ),
      opts(HTTP_RUNS.rawHeaders),
    );
    assert.equal((await fetch(`${app.url}/healthz`)).status, 200, 'the server still answers');
    await assertIntact('after the raw requests');
  });

  it('counts what it generated', () => {
    const planned = Object.values(HTTP_RUNS).reduce((a, b) => a + b, 0);
    assert.equal(counter, planned);
    console.log(`hostile HTTP requests: ${counter}`);
  });
});
