-- POST a fixed JSON body; configured by environment (wrk's per-thread `init` args do not reach
-- `done`):
--   WRK_BODY      path of the request body
--   WRK_AUTH      bearer key, or several separated by commas: requests then rotate over the keys
--                 (each key's plan has a requests-per-minute limit; spreading the load keeps the
--                 limiter checking every request without refusing any)
--   WRK_RATE      fixed rate: requests per second over all connections of the thread (run it
--                 with -t1 for a total rate); the requests start on one schedule t0 + k/rate,
--                 each taken by whichever connection is free; 0 = closed loop. Wins over
--                 WRK_DELAY_MS.
--   WRK_DELAY_MS  pause before each request on a connection (the rate then depends on the
--                 latency); 0 = closed loop
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

local rate = tonumber(os.getenv("WRK_RATE") or "0") or 0
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
if rate > 0 then
  -- wrk calls `delay` before every request of a connection (the first one included), once that
  -- connection is free, and waits the returned number of milliseconds before sending. Each call
  -- takes the next slot of the thread's schedule and waits until it. wrk truncates the value to
  -- whole milliseconds and its timers tick in milliseconds, so the wait is rounded up: a request
  -- leaves at most a millisecond before its slot (requests due in the same millisecond leave
  -- together), and as the slots are absolute times the rounding never adds up into the rate. A
  -- slot already past (every connection was busy) is taken at once, so a late start is caught
  -- up; if the target cannot keep up at all, the run ends up closed-loop and below the rate.
  local ffi = require("ffi")
  ffi.cdef[[
    struct post_lua_timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clk_id, struct post_lua_timespec *tp);
  ]]
  local CLOCK_MONOTONIC = 1 -- Linux
  local ts = ffi.new("struct post_lua_timespec")
  local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1e3 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval_ms, next_slot = 1000 / rate, nil
  function delay()
    local now = now_ms()
    local slot = next_slot or now
    next_slot = slot + interval_ms
    if slot <= now then return 0 end
    return math.ceil(slot - now)
  end
elseif delay_ms > 0 then
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
