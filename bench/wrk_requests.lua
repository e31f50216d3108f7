-- wrk script for bench/webhook.py: cycles through pre-signed raw HTTP requests.
--
-- bench/webhook.py writes the requests (complete HTTP/1.1 messages, signed
-- in Python with the Twilio SDK) into one file separated by NUL bytes, and a
-- copy of this script with the four settings below filled in. Nothing is
-- formatted or signed while the load runs: request() only indexes a table.
--
-- RATE > 0 turns wrk into a fixed-rate generator (wrk2 is not packaged here):
-- delay() hands out send slots 1000/RATE ms apart on one schedule for the
-- whole thread, so requests leave at RATE per second whenever a connection
-- is free. Latency is still measured from the write of each request, so a
-- server that falls behind shows as a lower achieved rate, not as queueing
-- delay (no coordinated-omission correction: use enough connections).

local DATA = "@DATA@"      -- the NUL-separated requests
local OFFSET = @OFFSET@    -- first request to send (runs on one server never repeat a MessageSid)
local RATE = @RATE@        -- requests per second, 0 = as fast as possible
local REPORT = "@REPORT@"  -- done() writes its numbers here as JSON

local requests = {}
local count = 0
local sent = OFFSET

function init(args)
  local file = assert(io.open(DATA, "rb"))
  local data = file:read("*a")
  file:close()
  local start = 1
  while true do
    local stop = data:find("\0", start, true)
    if not stop then break end
    count = count + 1
    requests[count] = data:sub(start, stop - 1)
    start = stop + 1
  end
end

function request()
  sent = sent + 1
  return requests[((sent - 1) % count) + 1]
end

if RATE > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
  ]]
  local now = ffi.new("bench_timespec[1]")
  local function clock_ms()
    ffi.C.clock_gettime(1, now) -- CLOCK_MONOTONIC
    return tonumber(now[0].tv_sec) * 1000 + tonumber(now[0].tv_nsec) / 1e6
  end
  local interval = 1000 / RATE
  local slot = nil

  function delay()
    local t = clock_ms()
    if slot == nil or slot < t - 1000 then slot = t end -- start, or fell a second behind: do not burst
    local wait = slot - t
    slot = slot + interval
    if wait < 0 then return 0 end
    return wait
  end
end

function done(summary, latency, requests)
  local file = assert(io.open(REPORT, "w"))
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
  file:close()
end
