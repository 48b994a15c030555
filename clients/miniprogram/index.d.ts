// Types of the login console's client for WeChat Mini Programs (index.mjs, dist/index.js).

/** The library's own codes, beside the API's: no code from wx.login(), no answer, an answer that is not the
 * API's, onRegister said no. */
export type ClientErrorCode = 'wx_login_failed' | 'network_error' | 'invalid_response' | 'registration_refused';

/** The API's error codes (the console's contract, section 4). */
export type ApiErrorCode =
  | 'invalid_request'
  | 'login_method_not_found'
  | 'login_method_disabled'
  | 'registration_closed'
  | 'invalid_code'
  | 'code_used'
  | 'user_blocked'
  | 'wechat_rate_limited'
  | 'wechat_misconfigured'
  | 'wechat_unavailable'
  | 'invalid_bind_code'
  | 'already_registered'
  | 'invalid_login_code'
  | 'invalid_ticket'
  | 'not_a_member'
  | 'unauthorized'
  | 'account_disabled'
  | 'wechat_already_bound'
  | 'user_already_bound'
  | 'not_bound'
  | 'last_login_method'
  | 'session_key_stale'
  | 'watermark_mismatch'
  | 'invalid_signature'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error'
  | 'not_found'
  | 'method_not_allowed';

/** Every failure of the client. */
export class ApiError extends Error {
  constructor(code: string, message: string, status: number, extra?: object);
  readonly name: 'ApiError';
  /** An `ApiErrorCode`, a `ClientErrorCode`, or a code a newer console added. */
  readonly code: ApiErrorCode | ClientErrorCode | (string & {});
  /** The HTTP status; 0 when no answer came (`wx_login_failed`, `network_error`, `registration_refused`). */
  readonly status: number;
  /** WeChat's errcode, when WeChat refused. */
  readonly wechatErrcode?: number;
  /** Seconds to wait, from `Retry-After` (`rate_limited`, `service_unavailable`). */
  readonly retryAfter?: number;
  /** wx's own errMsg, for `wx_login_failed` and `network_error`. */
  readonly errMsg?: string;
}

/** Where the token is kept; the default is wx's storage. Any method may return a promise. */
export interface TokenStorage {
  get(key: string): StoredToken | '' | null | undefined | Promise<StoredToken | '' | null | undefined>;
  set(key: string, value: StoredToken): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

export interface StoredToken {
  accessToken: string;
  /** milliseconds since the epoch, by the phone's clock */
  expiresAt: number;
}

/** What onRegister may answer: a profile to register with, nothing (register without one), or false (refuse). */
export type RegisterDecision = { name?: string; avatarUrl?: string } | boolean | null | undefined | void;

/** The part of `wx` the client uses (the mini program's global `wx` is one): callbacks, never promises. */
export interface WxLike {
  login(options: {
    success(result: { code?: string; errMsg?: string }): void;
    fail(result: { errMsg?: string }): void;
  }): unknown;
  request(options: {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
    data?: any;
    header?: Record<string, string>;
    timeout?: number;
    success(result: { statusCode: number; data: any; header: Record<string, any> }): void;
    fail(result: { errMsg?: string }): void;
  }): unknown;
  getStorageSync(key: string): any;
  setStorageSync(key: string, value: any): void;
  removeStorageSync(key: string): void;
}

export interface ClientOptions {
  /** The console's address, e.g. "https://login.example.com" (a domain in the mini program's request list). */
  baseUrl: string;
  /** The login method's instance name, e.g. "myWeChatMiniLogin". */
  loginMethod: string;
  /** Where the token is kept (default: wx storage under `storageKey`). */
  storage?: TokenStorage;
  /** The storage key (default "miniclient:" + loginMethod). */
  storageKey?: string;
  /** Called when this WeChat user is new and the login method allows registration. */
  onRegister?: () => RegisterDecision | Promise<RegisterDecision>;
  /** The corp to sign in to, one of the user's corpList (default: the console's choice). */
  corpId?: string;
  /** Accept-Language of every call: "zh-CN" or "en" (the language of error messages). */
  language?: string;
  /** wx.request's timeout in milliseconds. */
  timeout?: number;
  /** A stand-in for the global `wx` (tests, other platforms). */
  wx?: WxLike;
}

export interface User {
  userId: number;
  name: string;
  avatarUrl: string | null;
  phone: string | null;
  createdAt: string;
}

export interface Corp {
  corpId: string;
  name: string;
}

export interface Binding {
  loginMethod: string;
  appId: string;
  openId: string;
  unionId: string | null;
  boundAt: string;
}

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  /** seconds */
  expiresIn: number;
  corpId: string | null;
  user: User;
  corpList: Corp[];
  /** true when this login registered the user */
  registered: boolean;
}

export interface Me {
  user: User;
  corpId: string | null;
  corpList: Corp[];
  bindings: Binding[];
}

export interface BindResult {
  bound: true;
  userId: number;
  loginMethod: string;
  openId: string;
}

export interface UnbindResult {
  unbound: true;
  userId: number;
  loginMethod: string;
}

export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** What wx hands the mini program for data sealed with the session key. */
export interface SealedData {
  encryptedData: string;
  iv: string;
  rawData?: string;
  signature?: string;
}

export interface RequestOptions {
  /** default: GET without data, POST with (wx.request has no PATCH) */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  data?: object;
}

export interface Client {
  /** wx.login(), the API's login, registration when the user is new, the token exchange; the token is kept.
   * Parallel callers share the login under way. */
  login(): Promise<LoginResult>;
  /** The kept token, after a login when there is none (for your own server, which checks it with GET /me). */
  getToken(): Promise<string>;
  /** A call to `${baseUrl}/api/v1${path}` with the bearer token; a 401 logs in again and retries once. */
  request<T = any>(path: string, options?: RequestOptions): Promise<T>;
  /** GET /me */
  me(): Promise<Me>;
  /** Bind this WeChat user: to the account a console-issued ticket names, or (no ticket) to the token's. */
  bind(options?: { ticket?: string }): Promise<BindResult>;
  /** Unbind this WeChat user from the account; the kept token is dropped (the server revoked it). */
  unbind(): Promise<UnbindResult>;
  /** Revoke the token and forget it. */
  logout(): Promise<{ loggedOut: true }>;
  /** The code of `<button open-type="getPhoneNumber">` for the user's phone number. */
  getPhoneNumber(code: string): Promise<PhoneNumber>;
  /** The decrypted JSON of data sealed with the session key (watermark checked). On `session_key_stale` the
   * client logs in again before it throws: get the data anew and call decrypt again. */
  decrypt<T = Record<string, unknown>>(sealed: SealedData): Promise<T>;
}

export function createClient(options: ClientOptions): Client;
