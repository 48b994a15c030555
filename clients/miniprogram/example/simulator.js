// For make run's demo only: codes minted by the console's WeChat simulator (its control API at /_wechat/sim/,
// open in demo mode) stand in for WeChat's, which the simulator does not know.
const config = require('./config.js');

/**
 * GET (no data) or POST to the simulator's control API; resolves to its JSON answer.
 * @param {string} path
 * @param {object} [data]
 * @returns {Promise<any>}
 */
function control(path, data) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.baseUrl + '/_wechat/sim/' + path,
      method: data ? 'POST' : 'GET',
      data,
      success: (res) => (res.statusCode === 200 ? resolve(res.data) : reject(new Error('simulator: HTTP ' + res.statusCode))),
      fail: (res) => reject(new Error(res.errMsg)),
    });
  });
}

let appId = config.simulator && config.simulator.appId;

/** The demo's appId: the configured one, else the first app the simulator knows. */
async function demoAppId() {
  if (!appId) {
    const answer = await control('apps');
    if (!answer.apps.length) throw new Error('the simulator knows no app: run make run first');
    appId = answer.apps[0].appId;
  }
  return appId;
}

/**
 * A stand-in for wx whose login() mints the simulated user's code; everything else is wx's own.
 * @type {import('./lib/miniclient.js').WxLike}
 */
const simulatedWx = {
  login(options) {
    demoAppId()
      .then((id) => control('codes', { appId: id, user: config.simulator.user }))
      .then(
        (answer) => options.success({ code: answer.code, errMsg: 'login:ok' }),
        (error) => options.fail({ errMsg: 'login:fail ' + error.message }),
      );
  },
  request: (options) => wx.request(options),
  getStorageSync: (key) => wx.getStorageSync(key),
  setStorageSync: (key, value) => wx.setStorageSync(key, value),
  removeStorageSync: (key) => wx.removeStorageSync(key),
};

/**
 * A getPhoneNumber code for the simulated user, as the button would give on a phone.
 * @returns {Promise<string>}
 */
async function phoneCode() {
  const answer = await control('phone-codes', { appId: await demoAppId(), user: config.simulator.user });
  return answer.code;
}

module.exports = { simulatedWx, phoneCode };
