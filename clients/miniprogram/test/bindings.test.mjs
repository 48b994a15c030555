// bind() with a console ticket or the token, unbind(), and their refusals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtures, needsConsole } from './support/fixtures.mjs';
import { requestsTo } from './support/standin.mjs';
import { failure, keptToken, setup } from './support/world.mjs';

/** Two clients, of two login methods, sharing one kept token: the account signed in through `other`. */
async function signedInElsewhere() {
  const store = new Map();
  const storage = {
    get: (key) => store.get(key),
    set: (key, value) => void store.set(key, value),
    remove: (key) => void store.delete(key),
  };
  const elsewhere = setup('other', { storage, storageKey: 'account' });
  const account = await elsewhere.client.login();
  return { account, store, here: setup('shop', { storage, storageKey: 'account' }) };
}

describe('bind and unbind', needsConsole, () => {
  const [first, second] = fixtures ? fixtures.tickets : [];

  test('bind({ticket}) binds this WeChat user to the account the console issued the ticket for', async () => {
    const { wx, client } = setup('shop');
    const bound = await client.bind({ ticket: first.ticket });
    assert.deepEqual({ ...bound, openId: typeof bound.openId }, {
      bound: true,
      userId: first.userId,
      loginMethod: 'shopLogin',
      openId: 'string',
    });
    const request = wx.calls.requests[0];
    assert.equal(request.authorization, undefined);
    assert.equal(request.data.ticket, first.ticket);
    // Logging in now signs in to that account, and it has both bindings.
    let asked = 0;
    const login = await setup('shop', { user: wx.user, onRegister: () => (asked += 1) }).client.login();
    assert.equal(login.user.userId, first.userId);
    assert.equal(asked, 0);
    assert.equal(wx.calls.login, 1);
  });

  test('a used or unknown ticket is invalid_ticket', async () => {
    const { client } = setup('shop');
    await failure(client.bind({ ticket: first.ticket }), 'invalid_ticket', 400);
    await failure(client.bind({ ticket: 'no-such-ticket' }), 'invalid_ticket', 400);
  });

  test('a ticket with a WeChat user bound to another account is wechat_already_bound', async () => {
    const { client } = setup('shop');
    await client.login(); // registers this WeChat user on the login method
    await failure(client.bind({ ticket: second.ticket }), 'wechat_already_bound', 409);
    // The ticket is not spent by the refusal.
    const bound = await setup('shop').client.bind({ ticket: second.ticket });
    assert.equal(bound.userId, second.userId);
  });

  test('bind() with the token binds this WeChat user to the signed-in account', async () => {
    const { account, store, here } = await signedInElsewhere();
    const bound = await here.client.bind();
    assert.equal(bound.userId, account.user.userId);
    const request = here.wx.calls.requests.find((call) => call.path.endsWith('/bind'));
    assert.equal(request.authorization, `Bearer ${account.accessToken}`);
    assert.equal(typeof request.data.code, 'string');
    const me = await here.client.me();
    assert.deepEqual(me.bindings.map((binding) => binding.loginMethod).sort(), ['otherLogin', 'shopLogin']);
    // unbind() removes this login method's binding and forgets the token.
    const unbound = await here.client.unbind();
    assert.deepEqual(unbound, { unbound: true, userId: account.user.userId, loginMethod: 'shopLogin' });
    assert.equal(store.size, 0);
  });

  test('bind() when the account has this login method already is user_already_bound', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    await failure(client.bind(), 'user_already_bound', 409);
    assert.equal(wx.calls.login, 2); // one code for the login, a fresh one for the bind
  });

  test('unbind() of the only binding is last_login_method, and the token is kept', async () => {
    const { wx, client } = setup('shop');
    const { accessToken } = await client.login();
    await failure(client.unbind(), 'last_login_method', 409);
    assert.equal(keptToken(wx), accessToken);
    assert.equal((await client.me()).bindings.length, 1);
  });

  test('unbind() without a binding on this login method is not_bound', async () => {
    const { here } = await signedInElsewhere();
    await failure(here.client.unbind(), 'not_bound', 404);
  });

  test('a retried bind() carries a fresh wx.login() code', async () => {
    const { account, here } = await signedInElsewhere();
    let revoked = false;
    here.wx.beforeRequest = async ({ url, header }) => {
      if (url.endsWith('/bind') && !revoked) {
        revoked = true;
        await fetch(url.replace(/\/wechat-mini\/.*$/, '/auth/logout'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: header.Authorization },
          body: '{}',
        });
      }
    };
    // The account's token is revoked as the bind leaves: the client logs in through this login method (a new
    // WeChat user here, so a new account) and binds again with a new code, which the new account already has.
    await failure(here.client.bind(), 'user_already_bound', 409);
    const binds = here.wx.calls.requests.filter((call) => call.path.endsWith('/bind'));
    assert.equal(binds.length, 2);
    assert.notEqual(binds[0].data.code, binds[1].data.code);
    assert.notEqual(binds[1].authorization, `Bearer ${account.accessToken}`);
    assert.equal(requestsTo(here.wx, '/register'), 1);
  });
});
