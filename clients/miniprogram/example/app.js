// The client is made once, for the whole mini program: every page shares its token and its one login.
const { createClient } = require('./lib/miniclient.js');
const config = require('./config.js');
const { simulatedWx } = require('./simulator.js');

/** A new user: ask for a display name (an empty answer registers without one); cancel refuses. */
function askForName() {
  return new Promise((resolve) => {
    wx.showModal({
      title: 'Welcome',
      content: '',
      editable: true,
      placeholderText: 'Your name (optional)',
      confirmText: 'Register',
      success: (res) => resolve(res.confirm ? { name: res.content.trim() || undefined } : false),
      fail: () => resolve(false),
    });
  });
}

App({
  globalData: {
    client: createClient({
      baseUrl: config.baseUrl,
      loginMethod: config.loginMethod,
      onRegister: askForName,
      wx: config.simulator ? simulatedWx : undefined,
    }),
  },
});
