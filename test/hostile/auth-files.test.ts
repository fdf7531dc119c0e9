// Hostile auth files: random bytes, wrong JSON shapes, valid files with one field deleted, retyped or
// replaced, truncated text. Each is read through the product's one reader (readAuthFile, from a real
// file) and must give a named load error (or, when the mutation left a valid file, accounts) without
// throwing and without quoting a token. Then a batch goes into the real server's account directory:
// the good accounts are all still there, none twice, and the API keeps answering.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { readAuthFile } from '../../src/accounts/auth-file.ts';
import { isLoadError } from '../../src/accounts/formats/index.ts';
import { hostileJson, hostileString, mutate, mutation, pathsOf, SEED } from './generators.ts';
import { type RealApp, startRealApp } from './real-app.ts';

export const AUTH_FILE_RUNS = { bytes: 40, shapes: 40, mutations: 100, truncations: 40, server: 30 };

let app: RealApp;
let templates: Array<{ name: string; text: string; doc: unknown }>;
let tokens: string[];
let scratch: string;
let counter = 0;

before(async () => {
  app = await startRealApp({ accounts: 8 });
  const names = (await readdir(app.accountDir)).filter((n) => n.endsWith('.json')).sort();
  templates = await Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(app.accountDir, name), 'utf8');
      return { name, text, doc: JSON.parse(text) };
    }),
  );
  // Every token value in the templates: no error message may quote one.
  tokens = [...new Set(templates.flatMap((t) => t.text.match(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g) ?? []))];
  scratch = join(app.dataDir, '..', 'scratch');
  await mkdir(scratch, { recursive: true });
});
after(() => app.close());

/** Writes text as one auth file and reads it back through the product; asserts the answer is clear. */
async function check(fileName: string, content: string | Uint8Array): Promise<'refused' | 'read'> {
  counter += 1;
  const path = join(scratch, `${counter}-${fileName}`);
  await writeFile(path, content);
  const r = await readAuthFile(path, 'auth-dir');
  if (isLoadError(r)) {
    assert.ok(r.message.startsWith(`${path}: `), `the message names the file: ${r.message}`);
    assert.ok(r.message.length > path.length + 5 && r.message.length < 600, r.message);
    for (const t of tokens) assert.ok(!r.message.includes(t.slice(0, 24)), `message quotes a token: ${r.message}`);
    return 'refused';
  }
  for (const a of r.accounts) {
    assert.equal(typeof a.id, 'string');
    assert.ok(a.id.length > 0, 'an account has an id');
  }
  for (const p of r.problems) {
    assert.equal(typeof p.message, 'string');
    for (const t of tokens) assert.ok(!p.message.includes(t.slice(0, 24)), `problem quotes a token: ${p.message}`);
  }
  return 'read';
}

const template = () => fc.nat().map((i) => templates[i % templates.length]);
const opts = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

describe('hostile auth files through readAuthFile', () => {
  it(`${AUTH_FILE_RUNS.bytes} files of random bytes and text are refused by name`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), hostileString), async (content) => {
        if ((await check('bytes.json', content)) === 'refused') refused += 1;
      }),
      opts(AUTH_FILE_RUNS.bytes),
    );
    assert.equal(refused, AUTH_FILE_RUNS.bytes, 'no random bytes make an account');
  });

  it(`${AUTH_FILE_RUNS.shapes} JSON documents of the wrong shape are refused by name`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        hostileJson,
        fc.constantFrom('x.json', 'auth.json', 'codex-a@b.json', 'q.auth.json'),
        async (doc, name) => {
          if ((await check(name, JSON.stringify(doc) ?? 'undefined')) === 'refused') refused += 1;
        },
      ),
      opts(AUTH_FILE_RUNS.shapes),
    );
    assert.equal(refused, AUTH_FILE_RUNS.shapes, 'no random JSON makes an account');
  });

  it(`${AUTH_FILE_RUNS.mutations} valid files with one field deleted, retyped or replaced never throw`, async () => {
    const seen = { refused: 0, read: 0 };
    await fc.assert(
      fc.asyncProperty(template(), fc.nat(), mutation, async (t, at, m) => {
        const paths = pathsOf(t.doc);
        const doc = mutate(t.doc, paths[at % paths.length] ?? [], m);
        seen[await check(t.name, JSON.stringify(doc))] += 1;
      }),
      opts(AUTH_FILE_RUNS.mutations),
    );
    assert.equal(seen.refused + seen.read, AUTH_FILE_RUNS.mutations);
    assert.ok(seen.refused > 0, 'some mutations break the file');
  });

  it(`${AUTH_FILE_RUNS.truncations} valid files cut short are refused as truncated JSON`, async () => {
    await fc.assert(
      fc.asyncProperty(template(), fc.double({ min: 0, max: 0.999, noNaN: true }), async (t, frac) => {
        const cut = t.text.trimEnd().slice(0, Math.floor(t.text.trimEnd().length * frac));
        assert.equal(await check(t.name, cut), 'refused');
      }),
      opts(AUTH_FILE_RUNS.truncations),
    );
  });
});

describe('hostile auth files in the real server account directory', () => {
  it(`${AUTH_FILE_RUNS.server} broken files beside the good ones: every good account listed once, the API answers`, async () => {
    const before = (await (await fetch(`${app.url}/api/accounts`)).json()) as { accounts: Array<{ id: string }> };
    const good = before.accounts.map((a) => a.id).sort();
    assert.equal(good.length, 8);
    const docs = fc.sample(
      fc.tuple(template(), fc.nat(), mutation).map(([t, at, m]) => {
        const paths = pathsOf(t.doc);
        return JSON.stringify(mutate(t.doc, paths[at % paths.length] ?? [], m));
      }),
      { numRuns: AUTH_FILE_RUNS.server, seed: SEED },
    );
    for (const [i, text] of docs.entries()) {
      counter += 1;
      await writeFile(join(app.accountDir, `hostile-${i}.json`), i % 3 === 0 ? text.slice(0, text.length / 2) : text);
    }
    const res = await fetch(`${app.url}/api/accounts`);
    assert.equal(res.status, 200);
    const ids = ((await res.json()) as { accounts: Array<{ id: string }> }).accounts.map((a) => a.id);
    for (const id of good) assert.ok(ids.includes(id), `account ${id} is still listed`);
    assert.equal(new Set(ids).size, ids.length, 'no account is listed twice');
    const files = await fetch(`${app.url}/api/auth-files`);
    assert.equal(files.status, 200);
    for (const t of templates)
      assert.equal(await readFile(join(app.accountDir, t.name), 'utf8'), t.text, `${t.name} untouched`);
  });

  it('counts what it generated', () => {
    const planned = Object.values(AUTH_FILE_RUNS).reduce((a, b) => a + b, 0);
    assert.equal(counter, planned);
    console.log(`hostile auth files: ${counter}`);
  });
});
