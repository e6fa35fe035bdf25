-- endpoint-auth-bench: prints one machine-readable summary of a wrk run (and the responses
-- counted by status, where the run's script counts them) for the harness to parse.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "bench-summary requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f "
      .. "status=%.0f timeout=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
  local counts = {}
  for _, thread in ipairs(threads) do
    local statuses = thread:get("statuses")
    if type(statuses) == "table" then
      for status, n in pairs(statuses) do
        counts[status] = (counts[status] or 0) + n
      end
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format("%d=%.0f", status, n))
  end
  table.sort(parts)
  io.write("bench-statuses " .. table.concat(parts, " ") .. "\n")
end
