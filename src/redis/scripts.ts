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
 * KEYS: the distinct stream keys of the batch.
 * ARGV: per key `maxlen` ('0' = none) and `minid` ('' = none), then per entry
 * (key index, id or '*', payload). Returns the new ids in entry order. A key that did not exist
 * is announced on CREATED_EVENTS in the same atomic step.
 */
export const XADD_BATCH = `${COMPARE_IDS}${LAST_ID}
local n = #KEYS
local created = {}
for i = 1, n do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t == 'none' then created[#created + 1] = KEYS[i] end
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' holds a ' .. t .. ', not a stream')
  end
end
local first = 2 * n + 1
local last = {}
for j = first, #ARGV, 3 do
  local id = ARGV[j + 1]
  if id ~= '*' then
    local k = tonumber(ARGV[j])
    local prev = last[k] or lastId(KEYS[k])
    if cmp(id, prev) <= 0 then
      return redis.error_reply('IDTOOSMALL entry id ' .. id .. ' is not greater than the last id ' .. prev)
    end
    last[k] = id
  end
end
local ids = {}
for j = first, #ARGV, 3 do
  local k = tonumber(ARGV[j])
  local maxlen = ARGV[2 * k - 1]
  if maxlen ~= '0' then
    ids[#ids + 1] = redis.call('XADD', KEYS[k], 'MAXLEN', '~', maxlen, ARGV[j + 1], 'd', ARGV[j + 2])
  else
    ids[#ids + 1] = redis.call('XADD', KEYS[k], ARGV[j + 1], 'd', ARGV[j + 2])
  end
end
for i = 1, n do
  local minid = ARGV[2 * i]
  if minid ~= '' then redis.call('XTRIM', KEYS[i], 'MINID', '~', minid) end
end
for i = 1, #created do
  redis.call('XADD', '${CREATED_EVENTS}', 'MAXLEN', '~', 10000, '*', 'd', created[i])
end
return ids
`;

/** KEYS: stream keys. Returns each stream's last generated id ('0-0' when it does not exist). */
export const LAST_IDS = `${LAST_ID}
local out = {}
for i = 1, #KEYS do out[i] = lastId(KEYS[i]) end
return out
`;
