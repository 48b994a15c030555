// Built from index.mjs by build.mjs (npm run build): edit index.mjs, not this file.
"use strict";
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var index_exports = {};
__export(index_exports, {
  ApiError: () => ApiError,
  createClient: () => createClient
});
module.exports = __toCommonJS(index_exports);
const API = "/api/v1";
class ApiError extends Error {
  constructor(code, message, status, extra) {
    super(message);
    Object.setPrototypeOf(this, ApiError.prototype);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    Object.assign(this, extra);
  }
}
function header(headers, name) {
  for (const key in headers) if (key.toLowerCase() === name) return headers[key];
}
function createClient(options) {
  const host = options.wx || (typeof wx === "object" ? wx : null);
  const method = "/wechat-mini/" + encodeURIComponent(options.loginMethod);
  const key = options.storageKey || "miniclient:" + options.loginMethod;
  const storage = options.storage || {
    get: (k) => host.getStorageSync(k),
    set: (k, value) => host.setStorageSync(k, value),
    remove: (k) => host.removeStorageSync(k)
  };
  let inflight = null;
  function http(verb, path, data, token) {
    const head = { "Content-Type": "application/json" };
    if (token) head.Authorization = "Bearer " + token;
    if (options.language) head["Accept-Language"] = options.language;
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
          if (status >= 200 && status < 300 && body && typeof body === "object") return resolve(body);
          const error = body && body.error;
          if (!error || typeof error.code !== "string") {
            return reject(new ApiError("invalid_response", "HTTP " + status + " without an API answer", status));
          }
          const extra = {};
          if (error.wechatErrcode != null) extra.wechatErrcode = error.wechatErrcode;
          const retryAfter = header(res.header, "retry-after");
          if (retryAfter != null) extra.retryAfter = Number(retryAfter);
          reject(new ApiError(error.code, error.message, status, extra));
        },
        fail(res) {
          reject(new ApiError("network_error", res && res.errMsg || "wx.request failed", 0, { errMsg: res && res.errMsg }));
        }
      });
    });
  }
  function wxCode() {
    return new Promise((resolve, reject) => {
      const failed = (res) => {
        const errMsg = res && res.errMsg || "wx.login gave no code";
        reject(new ApiError("wx_login_failed", errMsg, 0, { errMsg }));
      };
      host.login({ success: (res) => res && res.code ? resolve(res.code) : failed(res), fail: failed });
    });
  }
  async function saved() {
    const token = await storage.get(key);
    return token && token.accessToken && token.expiresAt > Date.now() ? token.accessToken : null;
  }
  async function loginOnce() {
    let answer = await http("POST", method + "/login", { code: await wxCode() });
    const registered = !answer.loginCode;
    if (registered) {
      const profile = options.onRegister ? await options.onRegister() : null;
      if (profile === false) throw new ApiError("registration_refused", "onRegister refused to register", 0);
      const body = { bindCode: answer.bindCode };
      if (profile && profile.name) body.name = profile.name;
      if (profile && profile.avatarUrl) body.avatarUrl = profile.avatarUrl;
      answer = await http("POST", method + "/register", body);
    }
    const exchange = { loginCode: answer.loginCode };
    if (options.corpId) exchange.corpId = options.corpId;
    const token = await http("POST", "/auth/token", exchange);
    await storage.set(key, { accessToken: token.accessToken, expiresAt: Date.now() + token.expiresIn * 1e3 });
    return Object.assign(token, { corpList: answer.corpList, registered });
  }
  function login() {
    if (!inflight) {
      const done = () => inflight = null;
      inflight = loginOnce().then(
        (value) => (done(), value),
        (error) => {
          done();
          throw error;
        }
      );
    }
    return inflight;
  }
  async function getToken() {
    return !inflight && await saved() || (await login()).accessToken;
  }
  async function send(verb, path, body) {
    let token = await getToken();
    for (let retried = false; ; retried = true) {
      try {
        return await http(verb, path, await body(), token);
      } catch (error) {
        if (error.status !== 401 || retried) throw error;
        const current = !inflight && await saved();
        token = current && current !== token ? current : (await login()).accessToken;
      }
    }
  }
  const post = (path, data) => send("POST", path, () => data);
  return {
    login,
    getToken,
    request(path, opts) {
      opts = opts || {};
      return send(opts.method || (opts.data === void 0 ? "GET" : "POST"), path, () => opts.data);
    },
    me: () => send("GET", "/me", () => void 0),
    bind(opts) {
      const ticket = opts && opts.ticket;
      if (ticket) return wxCode().then((code) => http("POST", method + "/bind", { code, ticket }));
      return send("POST", method + "/bind", async () => ({ code: await wxCode() }));
    },
    async unbind() {
      const answer = await post(method + "/unbind", {});
      await storage.remove(key);
      return answer;
    },
    async logout() {
      if (inflight) await inflight.catch(() => null);
      const token = await saved();
      try {
        if (token) await http("POST", "/auth/logout", {}, token);
      } catch (error) {
        if (error.status !== 401) throw error;
      }
      await storage.remove(key);
      return { loggedOut: true };
    },
    getPhoneNumber: (code) => post(method + "/phone", { code }),
    async decrypt(sealed) {
      try {
        const { encryptedData, iv, rawData, signature } = sealed;
        return (await post(method + "/decrypt", { encryptedData, iv, rawData, signature })).data;
      } catch (error) {
        if (error.code === "session_key_stale") await login().catch(() => null);
        throw error;
      }
    }
  };
}
