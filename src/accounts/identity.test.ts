import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenClaims } from '../domain/account.ts';
import { accountKey, emailHash, seatIdentity, workspaceOfKey } from './identity.ts';

const claims = (over: Partial<TokenClaims>): TokenClaims => ({
  exp: null,
  email: null,
  planType: null,
  accountId: null,
  userId: null,
  subject: null,
  ...over,
});

describe('seat identity: workspace + user', () => {
  const cases: Array<{
    name: string;
    stated?: { workspace?: string; email?: string };
    id?: Partial<TokenClaims>;
    access?: Partial<TokenClaims>;
    want: { workspaceId: string | null; userId: string | null; key: string | null };
  }> = [
    {
      name: 'workspace and chatgpt user from the id token',
      id: { accountId: 'ws-1', userId: 'user-a', subject: 'auth0|a' },
      want: { workspaceId: 'ws-1', userId: 'user-a', key: 'ws-1:user-a' },
    },
    {
      name: 'the file states the workspace; the access token names the user',
      stated: { workspace: 'ws-1' },
      access: { accountId: 'ws-other', userId: 'user-b' },
      want: { workspaceId: 'ws-1', userId: 'user-b', key: 'ws-1:user-b' },
    },
    {
      name: 'a user claim in the access token beats sub in the id token',
      id: { accountId: 'ws-1', subject: 'auth0|a' },
      access: { userId: 'user-a' },
      want: { workspaceId: 'ws-1', userId: 'user-a', key: 'ws-1:user-a' },
    },
    {
      name: 'sub when no token has a ChatGPT user claim',
      id: { accountId: 'ws-1', subject: 'google-oauth2|42' },
      want: { workspaceId: 'ws-1', userId: 'google-oauth2|42', key: 'ws-1:google-oauth2|42' },
    },
    {
      name: 'a hash of the email (any case) when no token names a user: never the email itself',
      stated: { workspace: 'ws-1', email: 'Ann@Example.COM' },
      want: { workspaceId: 'ws-1', userId: null, key: `ws-1:e-${emailHash('ann@example.com')}` },
    },
    {
      name: 'an opaque token and no email: the bare workspace id, as before seats',
      stated: { workspace: 'ws-1' },
      want: { workspaceId: 'ws-1', userId: null, key: 'ws-1' },
    },
    {
      name: 'no workspace at all: no key (the caller derives one from the file)',
      id: { userId: 'user-a', email: 'a@x' },
      want: { workspaceId: null, userId: 'user-a', key: null },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = seatIdentity({
        statedWorkspaceId: c.stated?.workspace ?? null,
        statedEmail: c.stated?.email ?? null,
        idClaims: c.id ? claims(c.id) : null,
        accessClaims: c.access ? claims(c.access) : null,
      });
      assert.deepEqual({ workspaceId: got.workspaceId, userId: got.userId, key: got.key }, c.want);
    });
  }

  it('three seats of one workspace get three keys, one workspace', () => {
    const keys = ['u1', 'u2', 'u3'].map((u) => accountKey('ws-team', u, `${u}@x`));
    assert.equal(new Set(keys).size, 3);
    assert.deepEqual(
      keys.map((k) => workspaceOfKey(k!)),
      ['ws-team', 'ws-team', 'ws-team'],
    );
  });

  it('the workspace of a key; none for ids derived from a source', () => {
    assert.equal(workspaceOfKey('ws-1'), 'ws-1');
    assert.equal(workspaceOfKey('ws-1:user-a'), 'ws-1');
    assert.equal(workspaceOfKey('src-0123456789abcdef'), null);
    assert.equal(workspaceOfKey('cpa:main:codex-a.json'), null);
  });
});
