import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintTokens } from '../../sim/tokens.ts';
import { type AccountLoadError, isLoadError, type ParsedAuthFile, parseAuthText } from './index.ts';
import { stringifyJson } from './json-style.ts';

const now = Math.floor(Date.parse('2026-01-01T00:00:00Z') / 1000);
const tokens = mintTokens(
  { accountId: 'acc-123', userId: 'user-1', email: 'ann@example.com', plan: 'plus' },
  now,
  now + 3600,
);

function parse(text: string, fileName: string, sourceKind: 'auth-dir' | 'multi-auth' = 'auth-dir') {
  return parseAuthText(text, { path: `/x/${fileName}`, fileName, sourceKind });
}
function ok(r: ParsedAuthFile | AccountLoadError): ParsedAuthFile {
  if (isLoadError(r)) assert.fail(r.message);
  return r;
}

const codexCli = {
  auth_mode: 'chatgpt',
  OPENAI_API_KEY: null,
  tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: 'rt_a', account_id: 'acc-123' },
  last_refresh: '2025-12-31T00:00:00.123456789Z',
};
const cpa = {
  type: 'codex',
  email: 'ann@example.com',
  id_token: tokens.idToken,
  access_token: tokens.accessToken,
  refresh_token: 'rt_b',
  account_id: 'acc-123',
  last_refresh: '2025-12-31T00:00:00Z',
  expired: '2099-01-01T00:00:00Z',
  disabled: true,
  priority: 3,
};
const quota = { access_token: tokens.accessToken, account_id: 'acc-123' };
const multi = {
  version: 3,
  accounts: [
    {
      email: 'ann@example.com',
      accountId: 'acc-123',
      refreshToken: 'rt_c',
      accessToken: tokens.accessToken,
      expiresAt: (now + 3600) * 1000,
      addedAt: now * 1000,
      lastUsed: now * 1000,
      enabled: false,
      note: 'kept',
    },
    { email: 'bob@example.com', accountId: 'acc-9', refreshToken: 'rt_d', accessToken: 'opaque', enabled: true },
  ],
  activeIndex: 1,
};

describe('auth file formats', () => {
  it('detects each format and reads the account with claims filled in', () => {
    const a = ok(parse(JSON.stringify(codexCli, null, 2), 'auth.json'));
    assert.equal(a.format.format, 'codex-cli');
    assert.equal(a.accounts[0].name, 'auth');
    // One id per seat: workspace + the token's chatgpt_user_id; the workspace stays accountId.
    assert.equal(a.accounts[0].id, 'acc-123:user-1');
    assert.equal(a.accounts[0].accountId, 'acc-123');
    assert.equal(a.accounts[0].userId, 'user-1');
    assert.equal(a.accounts[0].email, 'ann@example.com');
    assert.equal(a.accounts[0].plan, 'plus');
    assert.equal(a.accounts[0].credentials.expiresAt, (now + 3600) * 1000);

    const b = ok(parse(JSON.stringify(cpa), 'codex-ann@example.com.json'));
    assert.equal(b.format.format, 'cpa');
    assert.equal(b.accounts[0].name, 'codex-ann@example.com');
    assert.equal(b.accounts[0].disabled, true);

    const c = ok(parse(JSON.stringify(quota), 'work.auth.json'));
    assert.equal(c.format.format, 'codex-quota');
    assert.equal(c.accounts[0].name, 'work');
    assert.equal(c.accounts[0].email, 'ann@example.com', 'email from the access token claims');
    assert.equal(c.accounts[0].credentials.refreshToken, null);

    const d = ok(parse(JSON.stringify(multi), 'openai-codex-accounts.json', 'multi-auth'));
    assert.equal(d.format.format, 'multi-auth');
    assert.equal(d.accounts.length, 2);
    assert.equal(d.accounts[0].disabled, true);
    assert.equal(d.accounts[0].name, 'ann@example.com');
    assert.equal(d.accounts[1].sourceIndex, 1);
    assert.equal(d.accounts[1].credentials.expiresAt, null, 'opaque token, no expiresAt: unknown');
  });

  it('derives a stable id from the source when no ChatGPT account id is known', () => {
    const text = JSON.stringify({ access_token: 'opaque-token-without-claims' });
    const one = ok(parse(text, 'a.auth.json')).accounts[0];
    const two = ok(parse(text, 'a.auth.json')).accounts[0];
    const other = ok(parse(text, 'b.auth.json')).accounts[0];
    assert.match(one.id, /^src-[0-9a-f]{16}$/);
    assert.equal(one.id, two.id);
    assert.notEqual(one.id, other.id);
  });

  it('writes an unchanged document back byte for byte, in every style', () => {
    const styles = [
      JSON.stringify(codexCli, null, 2),
      `${JSON.stringify(cpa, null, 2)}\n`,
      JSON.stringify(cpa),
      JSON.stringify(multi, null, '\t'),
      JSON.stringify({ ...cpa, note: '<a&b>' })
        .replace(/</g, '\\u003c')
        .replace(/>/g, '\\u003e')
        .replace(/&/g, '\\u0026'),
    ];
    for (const text of styles) {
      const parsed = ok(parse(text, 'f.json'));
      assert.equal(stringifyJson(parsed.doc, parsed.style), text);
    }
  });

  it('updates tokens in place: unknown fields and key order survive', () => {
    const parsed = ok(parse(JSON.stringify(multi, null, 2), 'm.json', 'multi-auth'));
    const next = mintTokens(
      { accountId: 'acc-123', userId: 'u', email: 'ann@example.com', plan: 'plus' },
      now,
      now + 7200,
    );
    parsed.format.applyTokens(parsed.doc, 0, {
      accessToken: next.accessToken,
      refreshToken: next.refreshToken,
      idToken: next.idToken,
      expiresIn: 7200,
      refreshedAt: new Date(now * 1000),
    });
    parsed.format.setDisabled(parsed.doc, 1, true);
    const doc = parsed.doc as typeof multi;
    assert.deepEqual(Object.keys(doc.accounts[0]), Object.keys(multi.accounts[0]));
    assert.equal(doc.accounts[0].note, 'kept');
    assert.equal(doc.accounts[0].expiresAt, (now + 7200) * 1000);
    assert.equal(doc.accounts[0].refreshToken, next.refreshToken);
    assert.equal(doc.accounts[1].enabled, false);
    assert.equal(doc.activeIndex, 1);
  });

  it('codex-cli write-back follows the CLI: keeps omitted tokens, sets account_id and RFC 3339 last_refresh', () => {
    const parsed = ok(parse(JSON.stringify(codexCli, null, 2), 'auth.json'));
    parsed.format.applyTokens(parsed.doc, 0, {
      accessToken: 'new-access',
      refreshToken: null,
      idToken: null,
      expiresIn: null,
      refreshedAt: new Date('2026-02-03T04:05:06.789Z'),
    });
    const doc = parsed.doc as typeof codexCli;
    assert.equal(doc.tokens.refresh_token, 'rt_a');
    assert.equal(doc.tokens.id_token, tokens.idToken);
    assert.equal(doc.tokens.access_token, 'new-access');
    assert.equal(doc.last_refresh, '2026-02-03T04:05:06.789Z');
    assert.deepEqual(Object.keys(doc), Object.keys(codexCli));
  });
});

describe('corrupt and foreign files give clear errors, never exceptions', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty.json', '', /empty/],
    ['spaces.json', '  \n', /empty/],
    ['truncated.json', '{"type":"codex","access_token":"eyJabc', /not valid JSON/],
    ['garbage.json', 'not json at all', /not valid JSON/],
    ['array.json', '[1,2]', /JSON object/],
    ['null.json', 'null', /JSON object/],
    ['gemini.json', '{"type":"gemini","access_token":"x"}', /type "gemini", not a Codex account/],
    ['other.json', '{"hello":"world"}', /not a recognized auth file/],
    ['apikey.json', '{"OPENAI_API_KEY":"sk-abc","tokens":null}', /API key only/],
    ['notokens.json', '{"auth_mode":"chatgpt","tokens":{"account_id":"x"}}', /neither access_token nor refresh_token/],
    ['cpa-empty.json', '{"type":"codex","access_token":"","refresh_token":null}', /neither/],
    ['v2.json', '{"version":2,"accounts":[]}', /version 2 is not supported/],
    ['multi-bad.json', '{"version":3,"accounts":"x"}', /not a recognized auth file/],
  ];
  for (const [name, text, pattern] of cases) {
    it(`${name}: ${pattern}`, () => {
      const r = parse(text, name);
      assert.ok(isLoadError(r), 'expected an error value');
      assert.match(r.message, pattern);
      assert.ok(r.message.startsWith(`/x/${name}: `), 'the message names the file');
    });
  }

  it('a JSON error never quotes file content (it may be a token)', () => {
    const r = parse('{"access_token": eyJsecretsecretsecret}', 'leak.json');
    assert.ok(isLoadError(r));
    assert.doesNotMatch(r.message, /secret/);
  });

  it('one bad multi-auth entry does not hide the good ones', () => {
    const text = JSON.stringify({ version: 3, accounts: [{ email: 'x@y.z' }, 42, multi.accounts[1]] });
    const parsed = ok(parse(text, 'm.json', 'multi-auth'));
    assert.equal(parsed.accounts.length, 1);
    assert.deepEqual(
      parsed.problems.map((p) => p.index),
      [0, 1],
    );
  });
});
