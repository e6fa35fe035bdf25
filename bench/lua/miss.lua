-- endpoint-auth-bench: cache misses. Every request names a user that does not exist, never the
-- same one twice, so each costs the server one argon2id verification. Responses are counted by
-- status. Argument: a tag that keeps the names of this run apart from other runs'.
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local sextets = {
      math.floor(n / 262144) % 64, math.floor(n / 4096) % 64, math.floor(n / 64) % 64, n % 64,
    }
    for j = 1, 4 do
      out[#out + 1] = alphabet:sub(sextets[j] + 1, sextets[j] + 1)
    end
    if not b then
      out[#out] = "="
      out[#out - 1] = "="
    elseif not c then
      out[#out] = "="
    end
  end
  return table.concat(out)
end

local prefix = "miss"
local counter = 0
statuses = {}

function init(args)
  prefix = "miss-" .. (args[1] or "run") .. "-" .. tostring(id or 0) .. "-"
end

function request()
  counter = counter + 1
  local credentials = prefix .. counter .. "@bench.invalid:not-the-password"
  return wrk.format(nil, nil, { ["Authorization"] = "Basic " .. base64(credentials) })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
