// login(): wx.login(), the API's login, registration through onRegister, the token exchange, one at a time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtures, needsConsole } from './support/fixtures.mjs';
import { requestsTo } from './support/standin.mjs';
import { failure, keptToken, raw, setup } from './support/world.mjs';

describe('login', needsConsole, () => {
  test('a new user registers with the profile onRegister gives, and the token is kept', async () => {
    let asked = 0;
    const { wx, client } = setup('shop', {
      onRegister: async () => {
        asked += 1;
        return { name: 'Alice', avatarUrl: 'https://example.com/alice.png' };
      },
    });
    const result = await client.login();
    assert.equal(asked, 1);
    assert.equal(result.registered, true);
    assert.equal(result.tokenType, 'Bearer');
    assert.ok(result.expiresIn > 0);
    assert.equal(result.user.name, 'Alice');
    assert.equal(result.user.avatarUrl, 'https://example.com/alice.png');
    assert.deepEqual(
      result.corpList.map((corp) => corp.corpId),
      [fixtures.corpId],
    );
    assert.deepEqual(wx.calls.requests.map((request) => request.path), [
      '/api/v1/wechat-mini/shopLogin/login',
      '/api/v1/wechat-mini/shopLogin/register',
      '/api/v1/auth/token',
    ]);
    assert.equal(keptToken(wx, 'miniclient:shopLogin'), result.accessToken);
    const me = await raw('GET', '/me', { token: result.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.userId, result.user.userId);
  });

  test('a known user logs in without onRegister being asked', async () => {
    const first = setup('shop');
    const registered = await first.client.login();
    let asked = 0;
    const { wx, client } = setup('shop', { user: first.wx.user, onRegister: () => (asked += 1) });
    const result = await client.login();
    assert.equal(asked, 0);
    assert.equal(result.registered, false);
    assert.equal(result.user.userId, registered.user.userId);
    assert.notEqual(result.accessToken, registered.accessToken);
    assert.equal(requestsTo(wx, '/register'), 0);
  });

  test('without onRegister a new user registers with no profile', async () => {
    const { client } = setup('shop');
    const result = await client.login();
    assert.equal(result.registered, true);
    assert.equal(result.user.avatarUrl, null);
  });

  test('onRegister answering true or nothing registers without a profile', async () => {
    for (const answer of [true, undefined, null]) {
      const { client } = setup('shop', { onRegister: () => answer });
      assert.equal((await client.login()).registered, true);
    }
  });

  test('onRegister returning false refuses: registration_refused, nothing registered, no token', async () => {
    const { wx, client } = setup('shop', { onRegister: async () => false });
    const error = await failure(client.login(), 'registration_refused', 0);
    assert.equal(requestsTo(wx, '/register'), 0);
    assert.equal(wx.store.size, 0);
    assert.match(error.message, /onRegister/);
    // The user is still new: a later login asks again.
    const again = setup('shop', { user: wx.user, onRegister: () => ({ name: 'Later' }) });
    assert.equal((await again.client.login()).user.name, 'Later');
  });

  test('onRegister throwing passes its own error on, and nothing is registered', async () => {
    const cancelled = new Error('the user closed the form');
    const { wx, client } = setup('shop', {
      onRegister: () => {
        throw cancelled;
      },
    });
    await assert.rejects(client.login(), (error) => error === cancelled);
    assert.equal(requestsTo(wx, '/register'), 0);
    assert.equal(wx.store.size, 0);
  });

  test('ten parallel login() calls make one login and share its answer', async () => {
    let asked = 0;
    const { wx, client } = setup('shop', { onRegister: () => (asked += 1) });
    const results = await Promise.all(Array.from({ length: 10 }, () => client.login()));
    assert.equal(wx.calls.login, 1);
    assert.equal(requestsTo(wx, '/login'), 1);
    assert.equal(requestsTo(wx, '/register'), 1);
    assert.equal(requestsTo(wx, '/auth/token'), 1);
    assert.equal(asked, 1);
    assert.equal(new Set(results.map((result) => result.accessToken)).size, 1);
    // Once it is over, the next call logs in anew.
    await client.login();
    assert.equal(wx.calls.login, 2);
  });

  test('parallel calls share a failed login too, and the next call tries again', async () => {
    const { wx, client } = setup('shop');
    wx.nextLogins.push({ errcode: 40029 });
    const errors = await Promise.all(Array.from({ length: 5 }, () => failure(client.login(), 'invalid_code')));
    assert.equal(new Set(errors).size, 1);
    assert.equal(wx.calls.login, 1);
    assert.equal((await client.login()).registered, true);
  });

  test('the corpId option picks the corp; one the user is not in is not_a_member', async () => {
    const { client } = setup('shop', { corpId: fixtures.corpId });
    assert.equal((await client.login()).corpId, fixtures.corpId);
    const stranger = setup('shop', { corpId: 'no-such-corp' });
    await failure(stranger.client.login(), 'not_a_member', 403);
    assert.equal(stranger.wx.store.size, 0);
  });

  test('a custom storage and storageKey keep the token', async () => {
    const saved = new Map();
    const storage = {
      get: async (key) => saved.get(key),
      set: async (key, value) => void saved.set(key, value),
      remove: async (key) => void saved.delete(key),
    };
    const { wx, client } = setup('shop', { storage, storageKey: 'my-token' });
    const result = await client.login();
    assert.equal(saved.get('my-token').accessToken, result.accessToken);
    assert.ok(saved.get('my-token').expiresAt > Date.now());
    assert.equal(wx.store.size, 0);
  });

  test('language is sent as Accept-Language with every call', async () => {
    const { wx, client } = setup('shop', { language: 'en' });
    await client.me();
    assert.deepEqual(new Set(wx.calls.requests.map((request) => request.language)), new Set(['en']));
    const plain = setup('shop');
    await plain.client.login();
    assert.deepEqual(new Set(plain.wx.calls.requests.map((request) => request.language)), new Set([undefined]));
  });
});
