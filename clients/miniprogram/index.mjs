// The login console's client for WeChat Mini Programs: wx.login(), registration, a bearer token kept in
// storage and renewed once on a 401. No dependencies; ES2017 so that every base library runs it as it is.

const API = '/api/v1';

/** Every failure: the contract's `code` and `message`, the HTTP `status` (0 when no answer came). */
export class ApiError extends Error {
  constructor(code, message, status, extra) {
    super(message);
    // Where the devtools compile classes to ES5 ("es6": true), Error() returns a plain Error: keep instanceof.
    Object.setPrototypeOf(this, ApiError.prototype);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    Object.assign(this, extra);
  }
}

function header(headers, name) {
  // wx.request keeps the server's spelling of header names; HTTP says they are case-insensitive.
  for (const key in headers) if (key.toLowerCase() === name) return headers[key];
}

/** A client for one login method (one mini program) of the console at baseUrl. */
export function createClient(options) {
  const host = options.wx || (typeof wx === 'object' ? wx : null); // the mini program's global wx
  const method = '/wechat-mini/' + encodeURIComponent(options.loginMethod);
  const key = options.storageKey || 'miniclient:' + options.loginMethod;
  const storage = options.storage || {
    get: (k) => host.getStorageSync(k),
    set: (k, value) => host.setStorageSync(k, value),
    remove: (k) => host.removeStorageSync(k),
  };
  let inflight = null; // the one login under way, shared by every caller

  function http(verb, path, data, token) {
    const head = { 'Content-Type': 'application/json' };
    if (token) head.Authorization = 'Bearer ' + token;
    if (options.language) head['Accept-Language'] = options.language;
    return new Promise((resolve, reject) => {
      host.request({
        url: options.baseUrl + API + path,
        method: verb,
        data,
        header: head,
        timeout: options.timeout,
        success(res) {
          const body = res.data;
          const status = res.statusCode;
          if (status >= 200 && status < 300 && body && typeof body === 'object') return resolve(body);
          const error = body && body.error;
          if (!error || typeof error.code !== 'string') {
            return reject(new ApiError('invalid_response', 'HTTP ' + status + ' without an API answer', status));
          }
          const extra = {};
          if (error.wechatErrcode != null) extra.wechatErrcode = error.wechatErrcode;
          const retryAfter = header(res.header, 'retry-after');
          if (retryAfter != null) extra.retryAfter = Number(retryAfter);
          reject(new ApiError(error.code, error.message, status, extra));
        },
        fail(res) {
          reject(new ApiError('network_error', (res && res.errMsg) || 'wx.request failed', 0, { errMsg: res && res.errMsg }));
        },
      });
    });
  }

  function wxCode() {
    return new Promise((resolve, reject) => {
      const failed = (res) => {
        const errMsg = (res && res.errMsg) || 'wx.login gave no code';
        reject(new ApiError('wx_login_failed', errMsg, 0, { errMsg }));
      };
      host.login({ success: (res) => (res && res.code ? resolve(res.code) : failed(res)), fail: failed });
    });
  }

  async function saved() {
    const token = await storage.get(key);
    return token && token.accessToken && token.expiresAt > Date.now() ? token.accessToken : null;
  }

  async function loginOnce() {
    let answer = await http('POST', method + '/login', { code: await wxCode() });
    const registered = !answer.loginCode;
    if (registered) {
      const profile = options.onRegister ? await options.onRegister() : null;
      if (profile === false) throw new ApiError('registration_refused', 'onRegister refused to register', 0);
      const body = { bindCode: answer.bindCode };
      if (profile && profile.name) body.name = profile.name;
      if (profile && profile.avatarUrl) body.avatarUrl = profile.avatarUrl;
      answer = await http('POST', method + '/register', body);
    }
    const exchange = { loginCode: answer.loginCode };
    if (options.corpId) exchange.corpId = options.corpId;
    const token = await http('POST', '/auth/token', exchange);
    await storage.set(key, { accessToken: token.accessToken, expiresAt: Date.now() + token.expiresIn * 1000 });
    return Object.assign(token, { corpList: answer.corpList, registered });
  }

  function login() {
    if (!inflight) {
      const done = () => (inflight = null);
      inflight = loginOnce().then(
        (value) => (done(), value),
        (error) => {
          done();
          throw error;
        },
      );
    }
    return inflight;
  }

  async function getToken() {
    return (!inflight && (await saved())) || (await login()).accessToken;
  }

  // One authenticated call: a 401 logs in again (once, shared with parallel callers) and retries once.
  // body() runs for each attempt, so a retried bind carries a fresh wx.login() code.
  async function send(verb, path, body) {
    let token = await getToken();
    for (let retried = false; ; retried = true) {
      try {
        return await http(verb, path, await body(), token);
      } catch (error) {
        if (error.status !== 401 || retried) throw error;
        const current = !inflight && (await saved());
        token = current && current !== token ? current : (await login()).accessToken;
      }
    }
  }

  const post = (path, data) => send('POST', path, () => data);

  return {
    login,
    getToken,
    request(path, opts) {
      opts = opts || {};
      return send(opts.method || (opts.data === undefined ? 'GET' : 'POST'), path, () => opts.data);
    },
    me: () => send('GET', '/me', () => undefined),
    bind(opts) {
      const ticket = opts && opts.ticket;
      if (ticket) return wxCode().then((code) => http('POST', method + '/bind', { code, ticket }));
      return send('POST', method + '/bind', async () => ({ code: await wxCode() }));
    },
    async unbind() {
      const answer = await post(method + '/unbind', {});
      await storage.remove(key); // the server revoked the token with the binding
      return answer;
    },
    async logout() {
      if (inflight) await inflight.catch(() => null);
      const token = await saved();
      try {
        if (token) await http('POST', '/auth/logout', {}, token);
      } catch (error) {
        if (error.status !== 401) throw error; // already expired or revoked: logged out all the same
      }
      await storage.remove(key);
      return { loggedOut: true };
    },
    getPhoneNumber: (code) => post(method + '/phone', { code }),
    async decrypt(sealed) {
      try {
        const { encryptedData, iv, rawData, signature } = sealed;
        return (await post(method + '/decrypt', { encryptedData, iv, rawData, signature })).data;
      } catch (error) {
        // WeChat's key and ours differ: log in again so they agree, then the caller gets the data anew.
        if (error.code === 'session_key_stale') await login().catch(() => null);
        throw error;
      }
    },
  };
}
