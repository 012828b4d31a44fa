-- POST a fixed JSON body; configured by environment (wrk's per-thread `init` args do not reach
-- `done`):
--   WRK_BODY      path of the request body
--   WRK_AUTH      bearer key, or several separated by commas: requests then rotate over the keys
--                 (each key's plan has a requests-per-minute limit; spreading the load keeps the
--                 limiter checking every request without refusing any)
--   WRK_DELAY_MS  pause before each request on a connection (fixed-rate runs); 0 = closed loop
--   WRK_OUT       where `done` writes the summary as JSON (latencies in microseconds)
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local keys = {}
for k in string.gmatch(os.getenv("WRK_AUTH") or "", "[^,]+") do keys[#keys + 1] = k end
if #keys == 1 then wrk.headers["Authorization"] = "Bearer " .. keys[1] end

if #keys > 1 then
  local requests, n = {}, 0
  -- Every request is built once per thread; `request` only picks the next one.
  function init(args)
    for i, k in ipairs(keys) do
      local h = {}
      for name, value in pairs(wrk.headers) do h[name] = value end
      h["Authorization"] = "Bearer " .. k
      requests[i] = wrk.format(wrk.method, wrk.path, h, wrk.body)
    end
  end
  function request()
    n = n % #requests + 1
    return requests[n]
  end
end

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
if delay_ms > 0 then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_OUT"), "w"))
  local e = summary.errors
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"lat":{"min":%d,"mean":%.3f,"stdev":%.3f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
  out:close()
end
