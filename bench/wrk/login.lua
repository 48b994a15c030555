-- wrk script: one login per request, each with a wx.login() code never sent before.
-- The code is "u<user>-<run>.<thread>.<n>": the stand-in answers user <user>'s openid, and the part after
-- the dash makes it unique. Arguments (after --): the number of pre-registered users, a run tag.
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  users, run, sent = tonumber(args[1]), args[2], 0
  math.randomseed(os.time() + id)
end

function request()
  sent = sent + 1
  local code = string.format("u%d-%s.%d.%d", math.random(1, users), run, id, sent)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, '{"code":"' .. code .. '"}')
end

done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
