-- wrk's done() for every script: one JSON line with the figures bench/ reads.
return function(summary, latency, requests)
  local flows = 0
  for _, thread in ipairs(threads or {}) do
    flows = flows + (thread:get("flows") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non2xx": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "flows": %d}\n',
    summary.requests, summary.duration / 1e6, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, flows))
end
