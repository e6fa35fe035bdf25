-- endpoint-auth-bench: a paced probe. Waits the given number of milliseconds (argument 1)
-- between a response and the next request, so one connection sends a steady trickle.
local interval_ms = 5

function init(args)
  interval_ms = tonumber(args[1]) or interval_ms
end

function delay()
  return interval_ms
end
