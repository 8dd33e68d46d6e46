-- wrk script of infra/bench/load.sh: counts responses by status, keeps the first body of a
-- non-2xx response, and writes one JSON object per run to $LOAD_RESULT (scenario, req/s, p50,
-- p99, errors). With LOAD_LOGIN_MEMBERS set, each request is a login of the next seeded member
-- (member<i>@load.example.com, password $LOAD_LOGIN_PASSWORD): thread t of $LOAD_THREADS takes
-- members t, t + threads, t + 2 * threads, ..., so every member logs in once per cycle over
-- all of them, and no two requests in flight are for the same member.

local members = tonumber(os.getenv("LOAD_LOGIN_MEMBERS") or "")
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

statuses = {}
first_error = nil

function init(args)
  if members then
    local stride = tonumber(os.getenv("LOAD_THREADS") or "1")
    local next_member = thread_index
    local password = os.getenv("LOAD_LOGIN_PASSWORD")
    local headers = { ["Content-Type"] = "application/json" }
    request = function()
      local email = string.format("member%d@load.example.com", next_member % members)
      next_member = next_member + stride
      local body = string.format('{"email":"%s","password":"%s"}', email, password)
      return wrk.format("POST", nil, headers, body)
    end
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and first_error == nil then
    first_error = string.format("%d %s", status, string.sub(body or "", 1, 300))
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local counts, non2xx, sample = {}, 0, nil
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
      if status < 200 or status > 299 then non2xx = non2xx + n end
    end
    sample = sample or thread:get("first_error")
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  table.sort(parts)
  local out = string.format(
    '{"scenario":%s,"requests":%d,"req_per_s":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,'
      .. '"errors":%d,"statuses":{%s},"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
    json_string(os.getenv("LOAD_SCENARIO") or "?"), summary.requests,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    non2xx + socket, table.concat(parts, ","), e.connect, e.read, e.write, e.timeout)
  if sample then
    out = out .. ',"first_error":' .. json_string(sample)
  end
  local file = assert(io.open(assert(os.getenv("LOAD_RESULT"), "LOAD_RESULT is not set"), "w"))
  file:write(out .. "}\n")
  file:close()
end
