--[[
  enqueueMany: adds jobs in order (concurrent enqueues of one client, or one
  enqueueMany call). Each job is created, or is answered with the job that
  already holds its idempotency key (a job earlier in the same call counts),
  or — its job id exists: a resend after a reconnect — with itself.

  KEYS[1] ready list   P:ready
  KEYS[2] delayed zset P:delayed

  ARGV[1] key prefix P
  ARGV[2..] five per job: job id, body (packed by the client: max attempts,
            kind, idempotency key, payload), idempotency key ('' = none),
            max attempts, delay ms

  Returns {now, r1, r2, …}, one r per job: 1 when created at `now` (the
  client knows every other field), else {0 (duplicate) | 1 (resend), job id,
  job fields…}.
]]
-- @include includes/now.lua
-- @include includes/jobFields.lua
local P = ARGV[1]
local out = {now}
local ready = {}
for i = 2, #ARGV, 5 do
  local id, idem, delay = ARGV[i], ARGV[i + 2], tonumber(ARGV[i + 4])
  local jk = P .. ':job:' .. id
  local r = nil
  if redis.call('EXISTS', jk) == 1 then
    r = {1, id, redis.call('HMGET', jk, unpack(JOB_FIELDS))}
  elseif idem ~= '' then
    local existing = redis.call('GET', P .. ':idem:' .. idem)
    if existing then
      local ek = P .. ':job:' .. existing
      if redis.call('EXISTS', ek) == 1 then
        -- a write, so that a WAIT after this call also covers the original
        -- enqueue (a retry after a DurabilityError)
        redis.call('HINCRBY', ek, 'dups', 1)
        r = {0, existing, redis.call('HMGET', ek, unpack(JOB_FIELDS))}
      end
    end
  end
  if not r then
    local nb = now + delay
    local state = 'ready'
    if delay > 0 then state = 'delayed' end
    redis.call('HSET', jk, 'b', ARGV[i + 1], 'max', ARGV[i + 3], 'created', now, 'nb', nb,
      'state', state)
    if idem ~= '' then
      redis.call('HSET', jk, 'idem', idem)
      redis.call('SET', P .. ':idem:' .. idem, id)
    end
    if delay > 0 then
      redis.call('ZADD', KEYS[2], nb, id)
    else
      ready[#ready + 1] = id
    end
    r = 1
  end
  out[#out + 1] = r
end
if #ready > 0 then
  redis.call('LPUSH', KEYS[1], unpack(ready))
  redis.call('PUBLISH', P .. ':wake', '')
end
return out
