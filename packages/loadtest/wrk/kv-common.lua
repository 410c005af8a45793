-- kv-common.lua: the shared body of the wrk scripts in this folder (get.lua,
-- put.lua, mix.lua, preload.lua). Each of those sets MODE and loads this file.
--
-- Keys are "<prefix><i>" for i in [0, pool), the same names the preload tool,
-- the Locust file and the Node drivers use, so a pool preloaded once can be read
-- by every driver. Values are one fixed string of `value` bytes per thread, made
-- once in init(): request() builds only the key part, so wrk's own cost per
-- request stays small next to the server's.
--
-- Script arguments (after `--`), all name=value: pool (keys, default 100000),
-- value (bytes, default 100), prefix (default "key-"), putpct (mix mode: percent
-- of PUTs, default 10), from/to (preload mode: key range, default 0..pool),
-- threads (preload mode: must equal wrk's -t, default 1), batch (mget mode: keys
-- per POST /mget, default 100).
--
-- Modes: get (GET /get?key=), put (POST /put), mix, preload, kvget (GET
-- /kv/<key>, the route @slabcache/client reads through) and mget (POST /mget
-- with `batch` random keys; a 200 counts once, whatever its hits).
--
-- In preload mode each thread also prints "WRK_PROGRESS <thread id> <responses>"
-- at most once a second (checked every 1,024 responses), which src/wrk.ts turns
-- into progress while a long fill runs.
--
-- At the end, done() prints one line starting with "WRK_JSON " holding the
-- counts and latency percentiles (microseconds) that src/wrk.ts parses. Status
-- codes are counted by class in response(): 404 apart from other non-2xx,
-- because a GET of an evicted key is an expected miss, not a failure.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function parse_args(args)
  local opts = { pool = 100000, value = 100, prefix = "key-", putpct = 10, threads = 1, batch = 100 }
  for _, arg in ipairs(args) do
    local name, val = string.match(arg, "^([%w_]+)=(.*)$")
    if name == nil then error("argument must be name=value, got: " .. arg) end
    if name == "prefix" then opts.prefix = val else opts[name] = tonumber(val) end
  end
  opts.from = opts.from or 0
  opts.to = opts.to or opts.pool
  return opts
end

local opts, value_json, next_key, stride, verify_call_pending
-- Globals, not locals: done() reads them from each thread with thread:get().
n2xx, n404, nother = 0, 0, 0

local function make_value(size, seed)
  -- Printable, JSON-safe, and not one repeated byte (so nothing downstream can
  -- compress it to nothing).
  local alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
  local chars = {}
  for i = 1, size do
    local k = ((i * 7 + seed * 13) % #alphabet) + 1
    chars[i] = string.sub(alphabet, k, k)
  end
  return table.concat(chars)
end

function init(args)
  opts = parse_args(args)
  local id = wrk.thread:get("id")
  math.randomseed(os.time() * 1000 + id * 7919)
  value_json = make_value(opts.value, id)
  -- Preload: thread `id` of `threads` writes from+id, from+id+threads, ...
  next_key = opts.from + id
  stride = opts.threads
  -- wrk calls request() once in thread 0's state right after init, only to
  -- check the request parses (script_verify_request), and never sends it; in
  -- preload mode that call must not use up a key.
  verify_call_pending = (id == 0)
  wrk.headers["Content-Type"] = "application/json"
end

local function put_request(i)
  local key = opts.prefix .. i
  return wrk.format("POST", "/put", nil, '{"key":"' .. key .. '","value":"' .. value_json .. '"}')
end

local function get_request(i)
  return wrk.format("GET", "/get?key=" .. opts.prefix .. i)
end

local function random_key()
  return math.random(0, opts.pool - 1)
end

local function kv_get_request(i)
  return wrk.format("GET", "/kv/" .. opts.prefix .. i)
end

local mget_keys = {}
local function mget_request()
  for n = 1, opts.batch do mget_keys[n] = '"' .. opts.prefix .. random_key() .. '"' end
  return wrk.format("POST", "/mget", nil, '{"keys":[' .. table.concat(mget_keys, ",", 1, opts.batch) .. ']}')
end

function request()
  if MODE == "get" then
    return get_request(random_key())
  elseif MODE == "put" then
    return put_request(random_key())
  elseif MODE == "kvget" then
    return kv_get_request(random_key())
  elseif MODE == "mget" then
    return mget_request()
  elseif MODE == "mix" then
    if math.random(1, 100) <= opts.putpct then return put_request(random_key()) end
    return get_request(random_key())
  elseif MODE == "preload" then
    local i = next_key
    if verify_call_pending then
      verify_call_pending = false
      return put_request(i)
    end
    if i >= opts.to then
      -- Past the end of this thread's share while the last responses are in
      -- flight: rewrite this thread's last key (same value: a no-op update).
      i = next_key - stride
    else
      next_key = next_key + stride
    end
    return put_request(i)
  end
  error("unknown MODE " .. tostring(MODE))
end

local preload_share
local progress_second = 0
function response(status, headers, body)
  if status >= 200 and status < 300 then
    n2xx = n2xx + 1
  elseif status == 404 then
    n404 = n404 + 1
  else
    nother = nother + 1
  end
  if MODE == "preload" then
    if preload_share == nil then
      local id = wrk.thread:get("id")
      local span = opts.to - opts.from
      preload_share = math.floor(span / stride) + ((id < span % stride) and 1 or 0)
    end
    local answered = n2xx + n404 + nother
    if answered % 1024 == 0 and os.time() ~= progress_second then
      progress_second = os.time()
      io.stdout:write("WRK_PROGRESS " .. wrk.thread:get("id") .. " " .. answered .. "\n")
      io.stdout:flush()
    end
    if answered == preload_share then
      -- wrk's main thread sleeps for the whole -d duration whatever the
      -- threads do, so tell the driver (src/wrk.ts), which then sends SIGINT
      -- to end wrk early; wrk still prints its summary and runs done().
      io.stdout:write("WRK_THREAD_DONE " .. wrk.thread:get("id") .. "\n")
      io.stdout:flush()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local s2xx, s404, sother = 0, 0, 0
  for _, thread in ipairs(threads) do
    s2xx = s2xx + thread:get("n2xx")
    s404 = s404 + thread:get("n404")
    sother = sother + thread:get("nother")
  end
  local e = summary.errors
  local parts = {
    '"mode":"' .. MODE .. '"',
    '"duration_us":' .. summary.duration,
    '"requests":' .. summary.requests,
    '"bytes":' .. summary.bytes,
    '"status_2xx":' .. s2xx,
    '"status_404":' .. s404,
    '"status_other":' .. sother,
    '"errors":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write
      .. ',"status":' .. e.status .. ',"timeout":' .. e.timeout .. '}',
    '"latency_us":{"min":' .. latency.min .. ',"max":' .. latency.max
      .. ',"mean":' .. string.format("%.1f", latency.mean)
      .. ',"stdev":' .. string.format("%.1f", latency.stdev)
      .. ',"p50":' .. latency:percentile(50) .. ',"p90":' .. latency:percentile(90)
      .. ',"p99":' .. latency:percentile(99) .. ',"p999":' .. latency:percentile(99.9) .. '}',
  }
  io.write("WRK_JSON {" .. table.concat(parts, ",") .. "}\n")
end
