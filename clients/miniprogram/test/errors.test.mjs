// Every refusal login() can meet, as an ApiError with the contract's code, message and HTTP status; and the
// library's own codes for what fails before an answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../index.mjs';
import { fixtures, needsConsole } from './support/fixtures.mjs';
import { requestsTo } from './support/standin.mjs';
import { failure, setup } from './support/world.mjs';

describe('errors', needsConsole, () => {
  test('WeChat refusing the code: its errcode comes along, no token is kept', async (t) => {
    const cases = [
      [{ errcode: 40029 }, 'invalid_code', 400, 40029],
      [{ errcode: 40163 }, 'code_used', 400, 40163],
      [{ errcode: 40226 }, 'user_blocked', 403, 40226],
      [{ errcode: 45011 }, 'wechat_rate_limited', 429, 45011],
      [{ errcode: -1 }, 'wechat_unavailable', 503, -1],
      [{ fault: 'http_500' }, 'wechat_unavailable', 503, undefined],
      [{ fault: 'not_json' }, 'wechat_unavailable', 503, undefined],
    ];
    for (const [next, code, status, errcode] of cases) {
      await t.test(`${JSON.stringify(next)} is ${code}`, async () => {
        const { wx, client } = setup('shop');
        wx.nextLogins.push(next);
        const error = await failure(client.login(), code, status);
        assert.equal(error.wechatErrcode, errcode);
        assert.equal(wx.store.size, 0);
      });
    }
  });

  test('a wx.login() code presented twice is code_used (the console remembers it)', async () => {
    const code = `replayed-${process.pid}-${Date.now()}`;
    const { wx, client } = setup('shop');
    wx.nextLogins.push({ code }, { code });
    await client.login();
    await failure(client.login(), 'code_used', 400);
  });

  test('the login method: unknown is login_method_not_found, switched off is login_method_disabled', async () => {
    await failure(setup('shop', { loginMethod: 'noSuchLogin' }).client.login(), 'login_method_not_found', 404);
    await failure(setup('off').client.login(), 'login_method_disabled', 403);
  });

  test('WeChat refusing the appSecret is wechat_misconfigured', async () => {
    await failure(setup('broken').client.login(), 'wechat_misconfigured', 502);
  });

  test('a new user where registration is closed is registration_closed, and onRegister is not asked', async () => {
    let asked = 0;
    const { wx, client } = setup('closed', { onRegister: () => (asked += 1) });
    await failure(client.login(), 'registration_closed', 403);
    assert.equal(asked, 0);
    assert.equal(requestsTo(wx, '/register'), 0);
  });

  test('a disabled account is account_disabled', async () => {
    await failure(setup('shop', { user: fixtures.disabledUser }).client.login(), 'account_disabled', 403);
  });

  test('a bindCode spent meanwhile is invalid_bind_code', async () => {
    const { wx, client } = setup('shop');
    wx.beforeRequest = async ({ url, data, header }) => {
      if (url.endsWith('/register')) {
        const spent = await fetch(url, { method: 'POST', headers: header, body: JSON.stringify(data) });
        assert.equal(spent.status, 201);
      }
    };
    await failure(client.login(), 'invalid_bind_code', 400);
  });

  test('a loginCode spent meanwhile is invalid_login_code', async () => {
    const { wx, client } = setup('shop');
    wx.beforeRequest = async ({ url, data, header }) => {
      if (url.endsWith('/auth/token')) {
        const spent = await fetch(url, { method: 'POST', headers: header, body: JSON.stringify(data) });
        assert.equal(spent.status, 200);
      }
    };
    await failure(client.login(), 'invalid_login_code', 400);
    assert.equal(wx.store.size, 0);
  });

  test('the same new user registered on another phone meanwhile is already_registered', async () => {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let asked;
    const asking = new Promise((resolve) => (asked = resolve));
    const slow = setup('shop', {
      onRegister: async () => {
        asked();
        await held; // the user takes a while over the form
        return { name: 'Slow' };
      },
    });
    const quick = setup('shop', { user: slow.wx.user, onRegister: () => ({ name: 'Quick' }) });
    const slowLogin = slow.client.login();
    await asking;
    assert.equal((await quick.client.login()).user.name, 'Quick');
    release();
    await failure(slowLogin, 'already_registered', 409);
  });

  test('this service\'s own rate limit is rate_limited, with retryAfter from Retry-After', async () => {
    const { client } = setup('limited', { baseUrl: fixtures.strictUrl });
    // This console allows two calls a minute to each endpoint of a login method: two logins pass, the third not.
    await client.login();
    await client.login();
    const error = await failure(client.login(), 'rate_limited', 429);
    assert.ok(Number.isInteger(error.retryAfter) && error.retryAfter > 0, String(error.retryAfter));
  });

  test('wx.login() failing is wx_login_failed with wx\'s errMsg, and nothing is sent', async () => {
    const { wx, client } = setup('shop');
    wx.nextLogins.push({ fail: 'login:fail timeout' });
    const error = await failure(client.login(), 'wx_login_failed', 0);
    assert.equal(error.errMsg, 'login:fail timeout');
    assert.equal(error.message, 'login:fail timeout');
    assert.equal(wx.calls.requests.length, 0);
  });

  test('wx.login() answering without a code is wx_login_failed too', async () => {
    const { client } = setup('shop', {
      wx: { login: ({ success }) => success({ errMsg: 'login:ok' }) },
    });
    await failure(client.login(), 'wx_login_failed', 0);
  });

  test('no answer at all is network_error with wx.request\'s errMsg', async () => {
    const { client } = setup('shop', { baseUrl: 'http://127.0.0.1:9' });
    const error = await failure(client.login(), 'network_error', 0);
    assert.match(error.errMsg, /^request:fail/);
  });

  test('an answer that is not the API\'s (a proxy\'s page, a wrong baseUrl) is invalid_response', async () => {
    const { client } = setup('shop', { baseUrl: `${fixtures.baseUrl}/not-the-api` });
    const error = await failure(client.login(), 'invalid_response');
    assert.ok(error.status >= 400, String(error.status));
    assert.ok(error.message.includes(String(error.status)), error.message);
  });

  test('ApiError is an Error with name, code, message and status', () => {
    const error = new ApiError('rate_limited', 'Too many requests.', 429, { retryAfter: 7 });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ApiError');
    assert.deepEqual([error.code, error.message, error.status, error.retryAfter], ['rate_limited', 'Too many requests.', 429, 7]);
    assert.match(error.stack, /ApiError: Too many requests\./);
  });
});
