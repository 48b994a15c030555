// Where the console is and which login method this mini program is. Edit these for your own console.
module.exports = {
  // The console's address. On a phone it must be an https domain in the mini program's request list; in
  // WeChat's devtools, with "urlCheck": false (project.config.json), make run's http://127.0.0.1:5000 works.
  baseUrl: 'http://127.0.0.1:5000',
  // The login method's instance name: make run creates demoWeChatMini.
  loginMethod: 'demoWeChatMini',
  // make run's demo knows only the console's WeChat simulator, not real WeChat: with this set, wx.login() and the
  // phone button's codes come from the simulator, for this simulated user. appId: the demo's (make run prints it;
  // left empty, the simulator's first app). Set simulator to null against real WeChat.
  simulator: { appId: '', user: 'alice' },
};
