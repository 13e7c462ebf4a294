package rediskv

import "github.com/redis/go-redis/v9"

// Each key is a hash {v: value, r: revision} in its own Redis key; the
// revision comes from one counter per bucket (INCR), so it is never
// reused for a key, even across a delete and re-create. The scripts run
// atomically on the server.

// setScript: KEYS = data, counter; ARGV = value, ttl ms ("0": none),
// expected revision ("": any, "0": absent). Returns the new revision.
var setScript = redis.NewScript(`
local want = ARGV[3]
if want ~= '' then
  local cur = redis.call('HGET', KEYS[1], 'r')
  if want == '0' then
    if cur then return redis.error_reply('CONFLICT key exists at revision ' .. cur) end
  elseif cur ~= want then
    return redis.error_reply('CONFLICT revision is ' .. (cur or 'absent') .. ', not ' .. want)
  end
end
local r = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'r', r)
if ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('PERSIST', KEYS[1])
end
return r
`)

// incrScript: KEYS = data, counter; ARGV = delta, ttl ms ("0": none).
// HINCRBY parses and overflow-checks the int64 exactly (Lua numbers are
// doubles); the ttl applies only when this call creates the key.
var incrScript = redis.NewScript(`
local existed = redis.call('EXISTS', KEYS[1]) == 1
local ok, n = pcall(redis.call, 'HINCRBY', KEYS[1], 'v', ARGV[1])
if not ok then
  return redis.error_reply('NOTNUMBER ' .. tostring(n.err or n))
end
local r = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'r', r)
if not existed and ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
`)
