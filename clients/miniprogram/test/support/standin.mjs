// A stand-in for the mini program's `wx`: login() mints real codes from the WeChat simulator's control API,
// request() speaks real HTTP to the console, storage is memory. It counts what the client asks of it.

let users = 0;

/** A simulated WeChat user name no other test uses. */
export function newUser(prefix = 'user') {
  users += 1;
  return `${prefix}-${process.pid}-${users}`;
}

async function control(simulatorUrl, path, body) {
  const response = await fetch(`${simulatorUrl}/sim/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`simulator ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * `wx` for one simulated WeChat user of one app. Test knobs:
 * - `nextLogins`: options for the next wx.login() codes, in order: `{errcode}` or `{fault}` (the simulator's),
 *   `{code}` (mint this exact code), or `{fail: 'errMsg'}` (wx.login itself fails, as with no network).
 * - `beforeRequest(options)`: awaited before a request leaves, so a test can act on the server in between.
 * - `calls`: `login` (wx.login calls), `requests` (`{method, path, authorization, language, data}` of each).
 */
export function standInWx({ simulatorUrl, appId, user = newUser() }) {
  const store = new Map();
  const calls = { login: 0, requests: [] };
  const wx = {
    user,
    appId,
    calls,
    store,
    nextLogins: [],
    beforeRequest: null,

    login({ success, fail }) {
      calls.login += 1;
      const next = wx.nextLogins.shift() || {};
      if (next.fail) {
        setTimeout(() => fail({ errMsg: next.fail }));
        return;
      }
      control(simulatorUrl, 'codes', { appId, user, ...next }).then(
        (answer) => success({ code: answer.code, errMsg: 'login:ok' }),
        (error) => fail({ errMsg: `login:fail ${error.message}` }),
      );
    },

    request({ url, method = 'GET', data, header = {}, success, fail }) {
      calls.requests.push({
        method,
        path: new URL(url).pathname,
        authorization: header.Authorization,
        language: header['Accept-Language'],
        data,
      });
      (async () => {
        if (wx.beforeRequest) await wx.beforeRequest({ url, method, data, header });
        const init = { method, headers: header };
        if (method !== 'GET' && data !== undefined) init.body = JSON.stringify(data);
        let response;
        try {
          response = await fetch(url, init);
        } catch (error) {
          fail({ errMsg: `request:fail ${error.cause ? error.cause.code : error.message}` });
          return;
        }
        const text = await response.text();
        let body = text; // wx.request's dataType "json": parsed when it parses, else the text
        try {
          body = JSON.parse(text);
        } catch {}
        const headers = {};
        response.headers.forEach((value, name) => {
          headers[name.replace(/(^|-)[a-z]/g, (s) => s.toUpperCase())] = value; // as a server spells them
        });
        success({ statusCode: response.status, data: body, header: headers, errMsg: 'request:ok' });
      })();
    },

    getStorageSync: (key) => (store.has(key) ? structuredClone(store.get(key)) : ''),
    setStorageSync: (key, value) => void store.set(key, structuredClone(value)),
    removeStorageSync: (key) => void store.delete(key),

    /** A getPhoneNumber button code for this user (what the button's event carries). */
    phoneCode: async (options = {}) => (await control(simulatorUrl, 'phone-codes', { appId, user, ...options })).code,
    /** Data sealed with this user's current session key, as wx hands it over. */
    sealed: (data, options = {}) => control(simulatorUrl, 'encrypted-data', { appId, user, data, ...options }),
  };
  return wx;
}

/** How many requests went to a path (ending with `suffix`). */
export function requestsTo(wx, suffix) {
  return wx.calls.requests.filter((request) => request.path.endsWith(suffix)).length;
}
