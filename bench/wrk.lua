-- wrk script of bench/http.py: paths taken in turn from BENCH_PATHS ("|"-separated), the session
-- cookie from BENCH_COOKIE, the proxy's X-Forwarded-Proto; done() prints one JSON line.
local cookie = os.getenv("BENCH_COOKIE") or ""
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^|]+") do
  table.insert(paths, p)
end
local counter = 0

wrk.headers["Host"] = "127.0.0.1"
wrk.headers["X-Forwarded-Proto"] = "https"
if cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_status": %d, "errors_other": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d, "max": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
