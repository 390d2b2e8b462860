-- wrk script of the HTTP mix (bench/http_mix.py). Requests rotate over BENCH_PATHS ("|"-separated), with
-- BENCH_METHOD and an optional BENCH_BODY; headers come from wrk's -H flags. Every response outside 2xx is
-- counted (wrk itself only counts >= 400, so a redirect to the login page would pass unnoticed), and done()
-- prints one line "BENCH_JSON {...}" for the harness to parse.

local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^|]+") do
  paths[#paths + 1] = path
end
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")

local threads = {}
local counter = 0
non2xx = 0
statuses = ""

function setup(thread)
  thread:set("offset", #threads * 7)
  threads[#threads + 1] = thread
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format(method, paths[(counter % #paths) + 1], nil, body)
end

function response(status, headers, response_body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if #statuses < 60 then
      statuses = statuses .. status .. " "
    end
  end
end

function done(summary, latency, requests)
  local bad, seen = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    seen = seen .. thread:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "non2xx_statuses": "%s", ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p95": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes, bad, seen,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
