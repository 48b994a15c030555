// The example mini program's own code (app.js, its page, config.js, simulator.js) run against make run's demo:
// App, Page, getApp and wx stand in for the mini program's globals, and a button press calls the page's handler.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { fixtures, needsConsole } from './support/fixtures.mjs';

const require = createRequire(import.meta.url);

/** The mini program's globals, with wx.request over real HTTP and the registration form answered by `name`. */
function miniProgramGlobals(name) {
  const store = new Map();
  const shown = [];
  let app;
  let page;
  globalThis.wx = {
    request({ url, method = 'GET', data, header = {}, success, fail }) {
      const init = { method, headers: { 'Content-Type': 'application/json', ...header } };
      if (method !== 'GET' && data !== undefined) init.body = JSON.stringify(data);
      fetch(url, init)
        .then(async (response) => {
          const text = await response.text();
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {}
          success({ statusCode: response.status, data: body, header: Object.fromEntries(response.headers) });
        })
        .catch((error) => fail({ errMsg: `request:fail ${error.message}` }));
    },
    login: () => assert.fail('under the demo the example mints codes from the simulator, never from wx.login'),
    getStorageSync: (key) => (store.has(key) ? store.get(key) : ''),
    setStorageSync: (key, value) => void store.set(key, value),
    removeStorageSync: (key) => void store.delete(key),
    showModal(options) {
      shown.push(options);
      setTimeout(() => options.success({ confirm: true, cancel: false, content: name }));
    },
  };
  globalThis.App = (options) => void (app = options);
  globalThis.getApp = () => app;
  globalThis.Page = (options) => {
    page = { ...options, data: { ...options.data }, setData: (patch) => Object.assign(page.data, patch) };
  };
  return { store, shown, page: () => page };
}

/** Load the example afresh (its modules out of require's cache), pointed at the demo console. */
function loadExample(loginMethod = 'demoWeChatMini') {
  for (const path of Object.keys(require.cache)) if (path.includes('/example/')) delete require.cache[path];
  const config = require('../example/config.js');
  config.baseUrl = fixtures.demoUrl;
  config.loginMethod = loginMethod;
  require('../example/app.js');
  require('../example/pages/index/index.js');
}

describe('the example mini program', needsConsole, () => {
  test('log in (registering through the name form), phone number, me, log out', async () => {
    const globals = miniProgramGlobals('Example User');
    loadExample();
    const page = globals.page();

    await page.onLogin();
    assert.equal(page.data.error, null);
    const login = JSON.parse(page.data.answer);
    assert.equal(login.registered, true);
    assert.equal(login.user.name, 'Example User');
    assert.equal(login.corpId, 'demo');
    assert.equal(globals.shown.length, 1);
    assert.equal(page.data.busy, false);

    await page.onPhone({ detail: { errMsg: 'getPhoneNumber:ok' } });
    assert.equal(JSON.parse(page.data.answer).purePhoneNumber, '13800138000');

    await page.onMe();
    const me = JSON.parse(page.data.answer);
    assert.equal(me.user.userId, login.user.userId);
    assert.equal(me.user.phone, '13800138000');
    assert.equal(me.bindings[0].loginMethod, 'demoWeChatMini');

    await page.onLogout();
    assert.deepEqual(JSON.parse(page.data.answer), { loggedOut: true });
    assert.equal(globals.store.size, 0);

    await page.onLogin(); // the simulated user is known now: no form
    assert.equal(JSON.parse(page.data.answer).registered, false);
    assert.equal(globals.shown.length, 1);
  });

  test('an error shows its code, status, message and advice', async () => {
    const globals = miniProgramGlobals('');
    loadExample('noSuchLogin');
    const page = globals.page();
    await page.onLogin();
    assert.equal(page.data.answer, '');
    assert.equal(page.data.error.code, 'login_method_not_found');
    assert.equal(page.data.error.status, 404);
    assert.match(page.data.error.message, /noSuchLogin/);
    assert.match(page.data.advice, /config\.js/);
  });
});
