/**
 * Lua scripts run by RedisStreamsService. A script runs atomically and is checked before it
 * writes: MULTI/EXEC cannot roll back an XADD that fails half-way (id too small, WRONGTYPE), so
 * a batch is validated first and then written, all in one step.
 */

const COMPARE_IDS = `
local function cmp(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm and -1 or 1 end
  if am ~= bm then return am < bm and -1 or 1 end
  if #as ~= #bs then return #as < #bs and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
`;

const LAST_ID = `
local function lastId(key)
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
`;

/** The stream where writes announce the data keys they create (read by device-wide readers). */
export const CREATED_EVENTS = ':event:stream.created';

/**
 * Several writes in one atomic step (one write: the entries of one push frame or request; several:
 * StreamWriter's group commit), each stored whole or not at all.
 * KEYS: the distinct stream keys of the call.
 * ARGV: per key `maxlen` ('0' = none) and `minid` ('' = none), then per entry (key index, id or
 * '*', payload); a negative key index starts a new write (without any, all entries are one write).
 * Each write is checked just before it is written, against the streams as the writes before it
 * left them: every key holds a stream or nothing, every explicit id is greater than the stream's
 * last one. A write that fails a check stores nothing and the others go on; one that Redis refuses
 * while it is written (a stream whose ids are used up, written so by another tool) fails alone,
 * possibly after some of its own entries were stored. Returns, write by write,
 * its new ids, or one error in their place when it was refused. A key that did not exist is
 * announced on CREATED_EVENTS in the same atomic step (a key is refused when that cannot be done).
 */
export const XADD_BATCH = `${COMPARE_IDS}${LAST_ID}
-- 'stream', 'none', or the error that refuses a key holding anything else
local function typeOf(key)
  local t = redis.call('TYPE', key).ok
  if t == 'stream' or t == 'none' then return t end
  return 'WRONGTYPE ' .. key .. ' holds a ' .. t .. ', not a stream'
end
local n = #KEYS
local refused = {}
local created = {}
local events
for i = 1, n do
  local t = typeOf(KEYS[i])
  if t == 'none' then
    events = events or typeOf('${CREATED_EVENTS}')
    if events == 'stream' or events == 'none' then created[i] = true else refused[i] = events end
  elseif t ~= 'stream' then
    refused[i] = t
  end
end
local last = {}
local out = {}
local j = 2 * n + 1
while j <= #ARGV do
  local stop = j + 3
  while stop <= #ARGV and tonumber(ARGV[stop]) > 0 do stop = stop + 3 end
  local err
  local tentative = {}
  for e = j, stop - 1, 3 do
    local k = math.abs(tonumber(ARGV[e]))
    local id = ARGV[e + 1]
    err = refused[k]
    if not err and id ~= '*' then
      local prev = tentative[k] or last[k] or lastId(KEYS[k])
      if cmp(id, prev) <= 0 then
        err = 'IDTOOSMALL entry id ' .. id .. ' is not greater than the last id ' .. prev
      end
      tentative[k] = id
    end
    if err then break end
  end
  local ids = {}
  if not err then
    for e = j, stop - 1, 3 do
      local k = math.abs(tonumber(ARGV[e]))
      local maxlen = ARGV[2 * k - 1]
      local id
      -- pcall: an error Redis raises while writing (a stream whose ids are used up) fails this
      -- write only; the writes before it in this call stay stored and are reported so.
      if maxlen ~= '0' then
        id = redis.pcall('XADD', KEYS[k], 'MAXLEN', '~', maxlen, ARGV[e + 1], 'd', ARGV[e + 2])
      else
        id = redis.pcall('XADD', KEYS[k], ARGV[e + 1], 'd', ARGV[e + 2])
      end
      if type(id) == 'table' and id.err then
        err = id.err
        break
      end
      last[k] = id
      ids[#ids + 1] = id
    end
  end
  if err then
    out[#out + 1] = { err = err }
  else
    for _, id in ipairs(ids) do out[#out + 1] = id end
  end
  j = stop
end
for i = 1, n do
  local minid = ARGV[2 * i]
  if minid ~= '' and last[i] then redis.call('XTRIM', KEYS[i], 'MINID', '~', minid) end
end
for i = 1, n do
  if created[i] and last[i] then
    redis.call('XADD', '${CREATED_EVENTS}', 'MAXLEN', '~', 10000, '*', 'd', KEYS[i])
  end
end
return out
`;

/** KEYS: stream keys. Returns each stream's last generated id ('0-0' when it does not exist). */
export const LAST_IDS = `${LAST_ID}
local out = {}
for i = 1, #KEYS do out[i] = lastId(KEYS[i]) end
return out
`;
