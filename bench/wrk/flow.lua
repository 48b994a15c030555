-- wrk script: new users signing up, login -> register -> token -> me, one user at a time per connection.
-- Run with as many threads as connections, so each thread's state is one connection's.
-- The code "n<run>.<thread>.<n>-0" is a WeChat user the console has never seen: login answers a bindCode.
-- Arguments (after --): the login method's name, a run tag.
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  method, run, users, flows, step, value = args[1], args[2], 0, 0, "login", nil
end

local json = {["Content-Type"] = "application/json"}

function request()
  if step == "login" then
    users = users + 1
    local code = string.format("n%s.%d.%d-0", run, id, users)
    return wrk.format("POST", "/api/v1/wechat-mini/" .. method .. "/login", json, '{"code":"' .. code .. '"}')
  elseif step == "register" then
    return wrk.format("POST", "/api/v1/wechat-mini/" .. method .. "/register", json,
                      '{"bindCode":"' .. value .. '","name":"Bench user"}')
  elseif step == "token" then
    return wrk.format("POST", "/api/v1/auth/token", json, '{"loginCode":"' .. value .. '"}')
  end
  return wrk.format("GET", "/api/v1/me", {["Authorization"] = "Bearer " .. value})
end

-- the next step, and the field of this answer it needs
local NEXT = {login = {"register", "bindCode"}, register = {"token", "loginCode"}, token = {"me", "accessToken"}}

function response(status, headers, body)
  if status >= 300 then
    step = "login"  -- counted by wrk as an error; start over with a new user
  elseif step == "me" then
    flows, step = flows + 1, "login"
  else
    local following, field = NEXT[step][1], NEXT[step][2]
    value = body:match('"' .. field .. '"%s*:%s*"([^"]+)"')
    step = value and following or "login"
  end
end

done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
