--[[
  enqueue: adds a job, or returns the one that holds the idempotency key.

  KEYS[1] job hash        P:job:<id>
  KEYS[2] idempotency key P:idem:<key> (any key when there is none)
  KEYS[3] ready list      P:ready
  KEYS[4] delayed zset    P:delayed

  ARGV[1] job id
  ARGV[2] kind
  ARGV[3] payload (bytes)
  ARGV[4] idempotency key ('' = none)
  ARGV[5] max attempts
  ARGV[6] delay ms
  ARGV[7] key prefix P

  Returns {created (0|1), job fields...}. Re-running it with the same job id
  (a resend after a reconnect) returns that job as created.
]]
-- @include includes/now.lua
-- @include includes/jobFields.lua
local jobKey, idemKey = KEYS[1], KEYS[2]
if redis.call('EXISTS', jobKey) == 1 then
  return {1, redis.call('HMGET', jobKey, unpack(JOB_FIELDS))}
end
if ARGV[4] ~= '' then
  local existing = redis.call('GET', idemKey)
  if existing then
    local ek = ARGV[7] .. ':job:' .. existing
    if redis.call('EXISTS', ek) == 1 then
      -- a write, so that a WAIT after this call also covers the original
      -- enqueue (a retry after a DurabilityError)
      redis.call('HINCRBY', ek, 'dups', 1)
      return {0, redis.call('HMGET', ek, unpack(JOB_FIELDS))}
    end
  end
end
local delay = tonumber(ARGV[6])
local nb = now + delay
local state = 'ready'
if delay > 0 then state = 'delayed' end
redis.call('HSET', jobKey, 'id', ARGV[1], 'kind', ARGV[2], 'payload', ARGV[3], 'idem', ARGV[4],
  'attempts', 0, 'max', ARGV[5], 'created', now, 'nb', nb, 'err', '', 'state', state,
  'token', '', 'exp', 0)
if ARGV[4] ~= '' then redis.call('SET', idemKey, ARGV[1]) end
if delay > 0 then
  redis.call('ZADD', KEYS[4], nb, ARGV[1])
else
  redis.call('LPUSH', KEYS[3], ARGV[1])
  redis.call('PUBLISH', ARGV[7] .. ':wake', '')
end
return {1, redis.call('HMGET', jobKey, unpack(JOB_FIELDS))}
