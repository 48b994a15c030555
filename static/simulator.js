// The simulator page: play a mini program against the real endpoints, exactly as a phone would.
"use strict";

(() => {
  const API = "/api/v1";
  const MINT_CODE = "/_wechat/sim/codes";  // stands in for wx.login() on the phone
  const form = document.getElementById("sim-form");
  if (!form) {
    return;
  }
  const log = document.getElementById("sim-log");
  const state = { bindCode: null, loginCode: null, accessToken: null };
  const value = (id) => document.getElementById(id).value.trim();
  const method = () => document.getElementById("sim-method").selectedOptions[0];

  function remember(answer) {
    for (const key of Object.keys(state)) {
      if (answer && typeof answer[key] === "string") {
        state[key] = answer[key];
      }
    }
    for (const cell of document.querySelectorAll("#sim-state [data-field]")) {
      cell.textContent = state[cell.dataset.field] || "—";
    }
  }

  function show(title, status, answer) {
    const empty = document.getElementById("sim-empty");
    if (empty) {
      empty.remove();
    }
    const entry = document.createElement("div");
    entry.className = "border-top py-2 sim-entry";
    const heading = document.createElement("div");
    heading.className = "small fw-semibold";
    const badge = document.createElement("span");
    badge.className = "badge me-2 " + (status >= 200 && status < 300 ? "text-bg-success" : "text-bg-danger");
    badge.textContent = status;
    heading.append(badge, title);
    const body = document.createElement("pre");
    body.className = "small";
    body.textContent = JSON.stringify(answer, null, 2);
    entry.append(heading, body);
    log.prepend(entry);
  }

  async function call(title, path, options) {
    const response = await fetch(path, { credentials: "omit", ...options });
    let answer;
    try {
      answer = await response.json();
    } catch (error) {
      answer = { error: "the answer was not JSON" };
    }
    show(title, response.status, answer);
    remember(answer);
    return { ok: response.ok, answer };
  }

  function post(body, token) {
    const headers = { "Content-Type": "application/json" };
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    return { method: "POST", headers, body: JSON.stringify(body) };
  }

  async function wxLogin() {
    const minted = await call("wx.login() (simulated WeChat)", MINT_CODE,
      post({ appId: method().dataset.appId, user: value("sim-user") }));
    return minted.ok ? minted.answer.code : null;
  }

  const steps = {
    async login() {
      const code = await wxLogin();
      if (code) {
        state.bindCode = state.loginCode = null;
        await call("POST login", `${API}/wechat-mini/${method().value}/login`, post({ code }));
      }
    },
    async register() {
      const body = { bindCode: state.bindCode || "" };
      if (value("sim-name")) {
        body.name = value("sim-name");
      }
      await call("POST register", `${API}/wechat-mini/${method().value}/register`, post(body));
    },
    async token() {
      await call("POST auth/token", `${API}/auth/token`, post({ loginCode: state.loginCode || "" }));
    },
    async me() {
      const headers = state.accessToken ? { Authorization: "Bearer " + state.accessToken } : {};
      await call("GET me", `${API}/me`, { headers });
    },
    async "bind-ticket"() {
      const code = await wxLogin();
      if (code) {
        await call("POST bind (ticket)", `${API}/wechat-mini/${method().value}/bind`, post({ code, ticket: value("sim-ticket") }));
      }
    },
    async "bind-token"() {
      const code = await wxLogin();
      if (code) {
        await call("POST bind (token)", `${API}/wechat-mini/${method().value}/bind`, post({ code }, state.accessToken));
      }
    },
  };

  form.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-step]");
    if (!button) {
      return;
    }
    button.disabled = true;
    try {
      await steps[button.dataset.step]();
    } finally {
      button.disabled = false;
    }
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("sim-clear").addEventListener("click", () => {
    for (const entry of log.querySelectorAll(".sim-entry")) {
      entry.remove();
    }
  });
})();
