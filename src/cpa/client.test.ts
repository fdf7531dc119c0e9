// CpaClient against a misbehaving server (a real loopback HTTP server answering what each case
// scripts): malformed answers, odd statuses, timeouts, dead ports and bad input are error values.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { freePort } from '../../test/support/cpa.ts';
import { authIndexFor } from './auth-index.ts';
import { CpaClient, normalizeCpaUrl } from './client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const server = createServer((req, res) => handler(req, res));
let connections = 0;
server.on('connection', () => connections++);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const KEY = 'unit-test-key-abcdefgh';
/** v0 server: detection sees a list, the operation gets `answer`. */
function v0(answer: (req: IncomingMessage, res: ServerResponse) => void): void {
  handler = (req, res) => {
    if (req.url?.startsWith('/v8/')) {
      res.statusCode = 404;
      return res.end('404 page not found');
    }
    if (req.url?.includes('__codex-fleet-route-probe__')) {
      res.setHeader('Content-Type', 'application/json');
      return res.end('{"files":[]}');
    }
    answer(req, res);
  };
}
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

describe('CpaClient error values', () => {
  const cases: Array<{
    name: string;
    answer: Handler;
    call: (c: CpaClient) => Promise<unknown>;
    kind: string;
    msg: RegExp;
  }> = [
    {
      name: 'list: not JSON',
      answer: (_q, r) => json(r, 200, '<html>proxy error</html>'),
      call: (c) => c.listAuthFiles(),
      kind: 'malformed',
      msg: /not JSON/,
    },
    {
      name: 'list: wrong shape',
      answer: (_q, r) => json(r, 200, { files: [{ nom: 'x' }] }),
      call: (c) => c.listAuthFiles(),
      kind: 'malformed',
      msg: /files\.0\.name/,
    },
    {
      name: 'api-call: header values not arrays',
      answer: (_q, r) => json(r, 200, { status_code: 200, header: { A: 'b' }, body: '' }),
      call: (c) => c.apiCall({ authIndex: 'ab', method: 'GET', url: 'http://127.0.0.1:1/' }),
      kind: 'malformed',
      msg: /header\.A/,
    },
    {
      name: 'status: 500 with CPA error text',
      answer: (_q, r) => json(r, 500, { error: 'failed to persist' }),
      call: (c) => c.setDisabled('a.json', true),
      kind: 'http_error',
      msg: /500: failed to persist/,
    },
    {
      name: 'usage queue: 400',
      answer: (_q, r) => json(r, 400, { error: 'count must be a positive integer' }),
      call: (c) => c.popUsageQueue(5),
      kind: 'bad_request',
      msg: /positive integer/,
    },
    {
      name: 'usage queue: object instead of array',
      answer: (_q, r) => json(r, 200, { records: [] }),
      call: (c) => c.popUsageQueue(5),
      kind: 'malformed',
      msg: /usage queue/,
    },
    {
      name: 'a CPA that echoes the key back never leaks it',
      answer: (_q, r) => json(r, 500, { error: `bad thing with ${KEY}` }),
      call: (c) => c.downloadAuthFile('a.json'),
      kind: 'http_error',
      msg: /bad thing with \*\*\*\*/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      v0(c.answer);
      const client = new CpaClient({ name: 'odd', url, managementKey: KEY });
      const res = (await c.call(client)) as { ok: boolean; error?: { kind: string; message: string; server: string } };
      assert.equal(res.ok, false);
      assert.equal(res.error?.kind, c.kind);
      assert.match(res.error?.message ?? '', c.msg);
      assert.match(res.error?.message ?? '', /^CPA server "odd": /);
      assert.ok(!JSON.stringify(res).includes(KEY));
    });
  }

  test('usage queue: one odd record does not cost the batch (the pop was destructive)', async () => {
    v0((_q, r) => json(r, 200, [{ request_id: 'a' }, 'garbage', 42, { request_id: 'b' }]));
    const res = await new CpaClient({ name: 'odd', url, managementKey: KEY }).popUsageQueue(10);
    assert.deepEqual(res, { ok: true, value: [{ request_id: 'a' }, 'garbage', 42, { request_id: 'b' }] });
  });

  test('detection: a catch-all 200 page on the v8 path does not hide a v0 server', async () => {
    handler = (req, res) => {
      if (req.url?.startsWith('/v8/')) {
        res.setHeader('Content-Type', 'text/html');
        return res.end('<html>dashboard</html>');
      }
      json(res, 200, { files: [] });
    };
    const client = new CpaClient({ name: 'proxied', url, managementKey: KEY });
    assert.deepEqual(await client.detectGeneration(), { ok: true, value: 'v0' });
    handler = (_req, res) => json(res, 200, '<html>everything</html>');
    const none = await new CpaClient({ name: 'html', url, managementKey: KEY }).detectGeneration();
    assert.ok(!none.ok);
    assert.equal(none.error.kind, 'malformed');
    assert.match(none.error.message, /\/v8\/management\/credentials/);
  });

  test('bad input is refused before any request', async () => {
    let requests = 0;
    handler = (_q, r) => {
      requests++;
      json(r, 200, { files: [] });
    };
    const client = new CpaClient({ name: 'x', url, managementKey: KEY });
    const results = await Promise.all([
      client.popUsageQueue(0),
      client.popUsageQueue(1.5),
      client.setDisabled('', true),
      client.deleteAuthFiles(['']),
      client.downloadAuthFile(''),
      client.apiCall({ authIndex: '', method: 'GET', url: 'http://127.0.0.1:1' }),
      client.apiCall({ authIndex: 'a', method: 'GET', url: 'file:///etc/passwd' }),
    ]);
    for (const r of results) {
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'invalid_input');
    }
    assert.deepEqual(await client.deleteAuthFiles([]), {
      ok: true,
      value: { deleted: [], failed: [], partial: false },
    });
    assert.equal(requests, 0);
    const noUrl = await new CpaClient({ name: 'x', url: 'not a url', managementKey: KEY }).listAuthFiles();
    assert.ok(!noUrl.ok);
    assert.match(noUrl.error.message, /valid http\(s\) URL/);
  });

  test('a dead port is a network error; a silent server is a timeout; the next call tries again', async () => {
    const port = await freePort();
    const dead = new CpaClient({ name: 'dead', url: `http://127.0.0.1:${port}`, managementKey: KEY });
    const r1 = await dead.listAuthFiles();
    assert.ok(!r1.ok);
    assert.equal(r1.error.kind, 'network');
    assert.match(r1.error.message, new RegExp(`cannot reach http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
    assert.equal(dead.breaker().open, false);

    let hang = true;
    handler = (req, res) => {
      if (hang) return; // never answers
      if (req.url?.startsWith('/v8/')) return json(res, 404, {});
      json(res, 200, { files: [] });
    };
    const slow = new CpaClient({ name: 'slow', url, managementKey: KEY }, { timeoutMs: 200 });
    const r2 = await slow.listAuthFiles();
    assert.ok(!r2.ok);
    assert.equal(r2.error.kind, 'timeout');
    hang = false;
    const r3 = await slow.listAuthFiles();
    assert.ok(r3.ok, JSON.stringify(r3));
    assert.equal(slow.generation, 'v0');
  });

  test('connections are reused across calls (each new one would cost a TCP setup on top of the key check)', async () => {
    v0((_req, res) => json(res, 200, { files: [] }));
    const client = new CpaClient({ name: 'x', url, managementKey: KEY });
    assert.ok((await client.listAuthFiles()).ok);
    const after = connections;
    for (let i = 0; i < 5; i++) assert.ok((await client.listAuthFiles()).ok);
    assert.equal(connections, after, 'five more calls, no new connection');
  });

  test('the key goes in the Authorization header and nowhere else', async () => {
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    v0((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      json(res, 200, { files: [] });
    });
    await new CpaClient({ name: 'x', url, managementKey: KEY }).listAuthFiles({ name: 'a b.json' });
    assert.deepEqual(seen, [{ url: '/v0/management/auth-files?name=a+b.json', auth: `Bearer ${KEY}` }]);
  });
});

describe('normalizeCpaUrl and authIndexFor', () => {
  test('URLs', () => {
    assert.equal(normalizeCpaUrl('http://127.0.0.1:8317'), 'http://127.0.0.1:8317');
    assert.equal(normalizeCpaUrl(' http://127.0.0.1:8317/v0/management/ '), 'http://127.0.0.1:8317');
    assert.equal(normalizeCpaUrl('https://cpa.example.com/proxy/v8/management'), 'https://cpa.example.com/proxy');
    assert.equal(normalizeCpaUrl('ftp://x'), null);
    assert.equal(normalizeCpaUrl('http://u:p@x'), null);
    assert.equal(normalizeCpaUrl('http://x/?key=1'), null);
    assert.equal(normalizeCpaUrl('nonsense'), null);
  });
  test('auth_index: value seen on the real CPA v7.2.140, and type is lower-cased', () => {
    const path = '/tmp/cpa-try/w/auths/codex-a@example.com.json';
    assert.equal(authIndexFor('codex', path), '4a177d0fe9d5552c');
    assert.equal(authIndexFor('Codex', path), '4a177d0fe9d5552c');
    assert.notEqual(authIndexFor('codex', `${path}x`), '4a177d0fe9d5552c');
  });
});
