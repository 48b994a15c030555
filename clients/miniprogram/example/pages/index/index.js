// One page: log in (registering a new user), the phone number, me, log out. Every error shows its code and
// what to do about it.
const config = require('../../config.js');
const { phoneCode } = require('../../simulator.js');

/** @typedef {import('../../lib/miniclient.js').ApiError} ApiError */

/**
 * The client app.js made for the whole mini program.
 * @returns {import('../../lib/miniclient.js').Client}
 */
const client = () => getApp().globalData.client;

/**
 * What the mini program should do for each code the client can throw (the rest: show the message).
 * @type {Record<string, string>}
 */
const ADVICE = {
  wx_login_failed: 'wx.login() failed: check the network and try again.',
  network_error: 'No answer from the console: check the network, the request domain list and baseUrl.',
  invalid_response: 'Something other than the console answered: check baseUrl.',
  registration_refused: 'You chose not to register.',
  registration_closed: 'This mini program takes no new users: ask support for a bind ticket.',
  account_disabled: 'This account is disabled: contact support.',
  user_blocked: "WeChat's risk control blocked this user.",
  invalid_code: 'WeChat refused the code: try again (the client asks wx.login() for a new one).',
  code_used: 'The code was used already: try again.',
  wechat_rate_limited: 'WeChat is busy: wait a moment and try again.',
  wechat_unavailable: 'WeChat cannot be reached right now: try again shortly.',
  wechat_misconfigured: "The console's appId or appSecret is wrong: the console's admin must fix the login method.",
  login_method_not_found: 'No such login method: check loginMethod in config.js.',
  login_method_disabled: 'The login method is switched off in the console.',
  rate_limited: 'Too many requests: wait retryAfter seconds.',
  service_unavailable: 'The console is having trouble: wait retryAfter seconds.',
  not_bound: 'This WeChat user is not bound to the account.',
};

Page({
  data: {
    busy: false,
    answer: '',
    error: /** @type {null | {code: string, status: number, message: string}} */ (null),
    advice: '',
  },

  onLogin() {
    return this.run(() => client().login());
  },

  onMe() {
    return this.run(() => client().me());
  },

  onLogout() {
    return this.run(() => client().logout());
  },

  /**
   * The getPhoneNumber button: its code (the simulator's under make run) buys the number.
   * @param {WechatMiniprogram.ButtonGetPhoneNumber} event
   */
  onPhone(event) {
    return this.run(async () => {
      const code = config.simulator ? await phoneCode() : event.detail.code;
      if (!code) throw new Error('No phone number: ' + event.detail.errMsg);
      return client().getPhoneNumber(code);
    });
  },

  /**
   * Run one call, showing its answer or its error.
   * @param {() => Promise<unknown>} call
   */
  async run(call) {
    this.setData({ busy: true, error: null, advice: '', answer: '' });
    try {
      const answer = await call();
      this.setData({ answer: JSON.stringify(answer, null, 2) });
    } catch (caught) {
      const error = /** @type {Partial<ApiError> & Error} */ (caught);
      const code = error.code || 'error';
      let advice = ADVICE[code] || '';
      if (error.retryAfter) advice = advice.replace('retryAfter', String(error.retryAfter));
      this.setData({ error: { code, status: error.status || 0, message: error.message }, advice });
    } finally {
      this.setData({ busy: false });
    }
  },
});
