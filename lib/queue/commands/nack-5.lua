--[[
  nack: gives a leased job back for a retry, or dead-letters it once its
  attempts are used up. The retry delay is either given, or taken from the
  backoff schedule the client computed (backoffSchedule in backoff.ts, the one
  definition of the formula): entry min(attempts, #schedule).

  KEYS[1] job hash     P:job:<id>
  KEYS[2] leased zset  P:leased
  KEYS[3] delayed zset P:delayed
  KEYS[4] ready list   P:ready
  KEYS[5] dead zset    P:dead

  ARGV[1] lease token
  ARGV[2] job id
  ARGV[3] retry after ms ('' = backoff schedule)
  ARGV[4] error message
  ARGV[5] key prefix P
  ARGV[6..] backoff schedule: delay ms after attempt 1, 2, … (at least one)

  Returns {state, attempts, notBefore} or a lease-lost reason.
]]
-- @include includes/now.lua
-- @include includes/checkLease.lua
local err = checkLease(KEYS[1], ARGV[1])
if err then return err end
local id = ARGV[2]
redis.call('ZREM', KEYS[2], id)
local a = redis.call('HMGET', KEYS[1], 'attempts', 'max')
local attempts, max = tonumber(a[1]), tonumber(a[2])
redis.call('HSET', KEYS[1], 'err', ARGV[4], 'exp', 0)
if attempts >= max then
  redis.call('HSET', KEYS[1], 'state', 'dead', 'nb', 0)
  redis.call('ZADD', KEYS[5], now, id)
  return {'dead', attempts, 0}
end
local delay
if ARGV[3] ~= '' then
  delay = tonumber(ARGV[3])
else
  local steps = #ARGV - 5
  delay = tonumber(ARGV[5 + math.min(math.max(attempts, 1), steps)])
end
local nb = now + delay
if delay > 0 then
  redis.call('HSET', KEYS[1], 'state', 'delayed', 'nb', nb)
  redis.call('ZADD', KEYS[3], nb, id)
  return {'delayed', attempts, nb}
end
redis.call('HSET', KEYS[1], 'state', 'ready', 'nb', nb)
redis.call('LPUSH', KEYS[4], id)
redis.call('PUBLISH', ARGV[5] .. ':wake', '')
return {'ready', attempts, nb}
