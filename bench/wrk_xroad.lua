-- GET TARGET_PATH, with X-Road-Client: XROAD_CLIENT when set; prints a JSON summary line.
local path = os.getenv("TARGET_PATH")
local client = os.getenv("XROAD_CLIENT")
local headers = { ["Accept"] = "application/json" }
if client and client ~= "" then
  headers["X-Road-Client"] = client
  headers["X-Road-Issue"] = "benchmark"
end

request = function()
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests": %d, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
