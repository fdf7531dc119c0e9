import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient, startTestServer, type TestServer } from '../../../test/support/fleet-server.ts';
import { AdminKeyError, isLoopbackHost, resolveAdminKey } from './admin-key.ts';

const KEY = 'test-admin-key-0123456789abcdef';

describe('isLoopbackHost', () => {
  it('accepts loopback names and addresses only', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1'])
      assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('resolveAdminKey', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-adminkey-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('needs no key on loopback', () => {
    assert.deepEqual(resolveAdminKey({ host: '127.0.0.1', dataDir: dir, env: {} }), {
      key: null,
      source: 'none',
      file: null,
    });
  });

  it('uses CODEX_FLEET_ADMIN_KEY, and refuses a short one with the reason', () => {
    const r = resolveAdminKey({ host: '0.0.0.0', dataDir: dir, env: { CODEX_FLEET_ADMIN_KEY: KEY } });
    assert.equal(r.key, KEY);
    assert.equal(r.source, 'env');
    assert.throws(
      () => resolveAdminKey({ host: '0.0.0.0', dataDir: dir, env: { CODEX_FLEET_ADMIN_KEY: 'short' } }),
      (e: Error) => e instanceof AdminKeyError && /too short/.test(e.message),
    );
  });

  it('off loopback generates a key stored 0600, then reads the same key back', () => {
    const data = join(dir, 'gen');
    const first = resolveAdminKey({ host: '0.0.0.0', dataDir: data, env: {} });
    assert.equal(first.source, 'generated');
    assert.ok(first.key && first.key.length >= 24);
    assert.equal(statSync(first.file!).mode & 0o777, 0o600);
    assert.equal(readFileSync(first.file!, 'utf8').trim(), first.key);
    const second = resolveAdminKey({ host: '192.168.1.5', dataDir: data, env: {} });
    assert.deepEqual(second, { key: first.key, source: 'file', file: first.file });
  });

  it('refuses a key file others can read', () => {
    const data = join(dir, 'loose');
    const r = resolveAdminKey({ host: '0.0.0.0', dataDir: data, env: {} });
    chmodSync(r.file!, 0o644);
    assert.throws(
      () => resolveAdminKey({ host: '0.0.0.0', dataDir: data, env: {} }),
      (e: Error) => e instanceof AdminKeyError && /chmod 600/.test(e.message),
    );
  });

  it('refuses to start when no key can be stored, and says how to fix it', () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    assert.throws(
      () => resolveAdminKey({ host: '0.0.0.0', dataDir: join(notADir, 'sub'), env: {} }),
      (e: Error) =>
        e instanceof AdminKeyError && /CODEX_FLEET_ADMIN_KEY/.test(e.message) && /refusing to bind/.test(e.message),
    );
  });
});

describe('admin key guard (server with a key)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ adminKey: KEY });
  });
  after(() => s.close());

  it('lets /healthz through and refuses the API without the key', async () => {
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    const res = await fetch(`${s.url}/api/accounts`);
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /admin key required/);
  });

  it('accepts the key as X-Admin-Key or Bearer, refuses a wrong one', async () => {
    assert.equal((await fetch(`${s.url}/api/accounts`, { headers: { 'x-admin-key': KEY } })).status, 200);
    assert.equal((await fetch(`${s.url}/api/accounts`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
    assert.equal((await fetch(`${s.url}/api/accounts`, { headers: { 'x-admin-key': `${KEY}x` } })).status, 401);
    const res = await fetch(`${s.url}/api/accounts/${await s.idOf('acct-01')}/disable`, {
      method: 'POST',
      headers: { 'x-admin-key': KEY },
    });
    assert.equal(res.status, 200);
    const audit = await fetch(`${s.url}/api/audit`, { headers: { 'x-admin-key': KEY } });
    const entries = ((await audit.json()) as { entries: Array<{ actor: string }> }).entries;
    assert.equal(entries[0].actor, 'person:admin-key');
  });

  it('sends a browser to the login page, and a session from it can write only with the CSRF token', async () => {
    const page = await fetch(`${s.url}/accounts`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.match(page.headers.get('location')!, /^\/login\?next=%2Faccounts/);
    const cookie = page.headers.get('set-cookie')!.split(';')[0];
    assert.match(page.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(page.headers.get('set-cookie')!, /SameSite=Strict/i);

    const login = await fetch(`${s.url}/login`, { headers: { accept: 'text/html', cookie } });
    const form = await login.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)![1];

    const post = (key: string, token = csrf) =>
      fetch(`${s.url}/login`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key, _csrf: token, next: '/accounts' }).toString(),
        redirect: 'manual',
      });
    assert.equal((await post('wrong-key-wrong-key')).status, 401);
    assert.equal((await post(KEY, 'forged')).status, 403);
    const ok = await post(KEY);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/accounts');
    const session = ok.headers.get('set-cookie')!.split(';')[0];
    assert.notEqual(session, cookie, 'login issues a new session id');

    // The pre-login cookie is worth nothing now.
    assert.equal((await fetch(`${s.url}/api/accounts`, { headers: { cookie } })).status, 401);
    assert.equal((await fetch(`${s.url}/api/accounts`, { headers: { cookie: session } })).status, 200);

    const shell = await (await fetch(`${s.url}/`, { headers: { cookie: session, accept: 'text/html' } })).text();
    const token = /name="csrf-token" content="([^"]+)"/.exec(shell)![1];
    const write = (headers: Record<string, string>) =>
      fetch(`${s.url}/api/inspections`, { method: 'POST', headers: { cookie: session, ...headers } });
    assert.equal((await write({})).status, 403);
    assert.equal((await write({ 'x-csrf-token': 'nope' })).status, 403);
    assert.equal((await write({ 'x-csrf-token': token, origin: 'http://evil.example' })).status, 403);
    assert.equal((await write({ 'x-csrf-token': token })).status, 201);
  });

  it('brings a visitor back to the page asked for, query included', async () => {
    const page = await fetch(`${s.url}/auth/edit?name=acct-01`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    assert.equal(page.headers.get('location'), `/login?next=${encodeURIComponent('/auth/edit?name=acct-01')}`);
  });

  it('never redirects a login to another site', async () => {
    const page = await fetch(`${s.url}/login?next=//evil.example`, { headers: { accept: 'text/html' } });
    const cookie = page.headers.get('set-cookie')!.split(';')[0];
    const html = await page.text();
    assert.doesNotMatch(html, /evil\.example/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const ok = await fetch(`${s.url}/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: KEY, _csrf: csrf, next: '//evil.example/x' }).toString(),
      redirect: 'manual',
    });
    assert.equal(ok.headers.get('location'), '/');
  });
});

describe('loopback without a key', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('reads freely but writes only with the CSRF token of a session', async () => {
    assert.equal((await fetch(`${s.url}/api/accounts`)).status, 200);
    const bare = await fetch(`${s.url}/api/inspections`, { method: 'POST' });
    assert.equal(bare.status, 403);
    const client = await new ApiClient(s.url).start();
    assert.equal(
      (await client.request('POST', '/api/inspections', undefined, { 'x-csrf-token': 'forged' })).status,
      403,
    );
    assert.equal((await client.request('POST', '/api/inspections')).status, 201);
  });

  it('refuses a request for another host name (DNS rebinding)', async () => {
    const port = new URL(s.url).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/accounts', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
  });
});
