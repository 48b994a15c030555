// The token: kept, added to every call, renewed by one login and one retry on a 401, dropped at logout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needsConsole } from './support/fixtures.mjs';
import { requestsTo } from './support/standin.mjs';
import { failure, keptToken, raw, revoke, setup } from './support/world.mjs';

describe('token', needsConsole, () => {
  test('me() logs in first when no token is kept, then reuses the token', async () => {
    const { wx, client } = setup('shop', { onRegister: () => ({ name: 'Bo' }) });
    const me = await client.me();
    assert.equal(me.user.name, 'Bo');
    assert.equal(me.bindings.length, 1);
    assert.equal(me.bindings[0].loginMethod, 'shopLogin');
    assert.equal(me.bindings[0].appId, wx.appId);
    await client.me();
    assert.equal(wx.calls.login, 1);
    const calls = wx.calls.requests.filter((request) => request.path === '/api/v1/me');
    assert.equal(calls.length, 2);
    assert.ok(calls.every((request) => request.authorization === `Bearer ${keptToken(wx)}`));
  });

  test('a revoked token: one fresh login and one retry, and the call succeeds', async () => {
    const { wx, client } = setup('shop');
    const first = await client.login();
    await revoke(first.accessToken); // as if it had expired
    const me = await client.me();
    assert.equal(me.user.userId, first.user.userId);
    assert.equal(wx.calls.login, 2);
    assert.equal(requestsTo(wx, '/me'), 2);
    assert.notEqual(keptToken(wx), first.accessToken);
  });

  test('a 401 again after the fresh login is unauthorized: no second retry', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    wx.beforeRequest = async ({ url, header }) => {
      if (url.endsWith('/me')) await revoke(header.Authorization.slice('Bearer '.length));
    };
    const error = await failure(client.me(), 'unauthorized', 401);
    assert.equal(wx.calls.login, 2);
    assert.equal(requestsTo(wx, '/me'), 2);
    assert.match(error.message, /token/i);
  });

  test('ten parallel calls with a revoked token share one fresh login', async () => {
    const { wx, client } = setup('shop');
    const first = await client.login();
    await revoke(first.accessToken);
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.me()));
    assert.ok(answers.every((me) => me.user.userId === first.user.userId));
    assert.equal(wx.calls.login, 2);
    assert.equal(requestsTo(wx, '/login'), 2);
    assert.equal(requestsTo(wx, '/me'), 20);
  });

  test('calls made while a login is under way wait for it', async () => {
    const { wx, client } = setup('shop');
    const [login, me, token] = await Promise.all([client.login(), client.me(), client.getToken()]);
    assert.equal(wx.calls.login, 1);
    assert.equal(me.user.userId, login.user.userId);
    assert.equal(token, login.accessToken);
  });

  test('a kept token past its expiresAt is not sent: the client logs in first', async () => {
    const { wx, client } = setup('shop');
    const first = await client.login();
    wx.store.set('miniclient:shopLogin', { accessToken: first.accessToken, expiresAt: Date.now() - 1 });
    await client.me();
    assert.equal(wx.calls.login, 2);
    assert.equal(requestsTo(wx, '/me'), 1);
    assert.notEqual(keptToken(wx), first.accessToken);
  });

  test('getToken() gives the kept token, which the mini program\'s own server checks with GET /me', async () => {
    const { wx, client } = setup('shop');
    const token = await client.getToken();
    assert.equal(wx.calls.login, 1);
    assert.equal(await client.getToken(), token);
    assert.equal(wx.calls.login, 1);
    assert.equal((await raw('GET', '/me', { token })).status, 200);
  });

  test('request() calls any API path with the token: GET without data, POST with', async () => {
    const { wx, client } = setup('shop');
    const me = await client.request('/me');
    assert.ok(me.user.userId > 0);
    const token = keptToken(wx);
    assert.deepEqual(await client.request('/auth/logout', { data: {} }), { loggedOut: true });
    assert.equal((await raw('GET', '/me', { token })).status, 401);
    assert.deepEqual(
      wx.calls.requests.slice(-2).map((request) => request.method),
      ['GET', 'POST'],
    );
  });

  test('request() to a path the API does not have is not_found; a wrong method is method_not_allowed', async () => {
    const { client } = setup('shop');
    await failure(client.request('/no/such/path'), 'not_found', 404);
    await failure(client.request('/me', { method: 'DELETE' }), 'method_not_allowed', 405);
  });

  test('logout() revokes the token on the server and forgets it', async () => {
    const { wx, client } = setup('shop');
    const { accessToken } = await client.login();
    assert.deepEqual(await client.logout(), { loggedOut: true });
    assert.equal(wx.store.size, 0);
    assert.equal((await raw('GET', '/me', { token: accessToken })).status, 401);
    // The next call logs in again.
    await client.me();
    assert.equal(wx.calls.login, 2);
  });

  test('logout() with no token sends nothing; with a revoked one it still forgets it', async () => {
    const { wx, client } = setup('shop');
    assert.deepEqual(await client.logout(), { loggedOut: true });
    assert.equal(wx.calls.requests.length, 0);
    const { accessToken } = await client.login();
    await revoke(accessToken);
    assert.deepEqual(await client.logout(), { loggedOut: true });
    assert.equal(wx.store.size, 0);
  });
});
