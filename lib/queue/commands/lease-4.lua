--[[
  lease: reclaims expired leases (back to ready, or dead when attempts are
  used up), promotes due delayed jobs, then leases up to `count` ready jobs.

  KEYS[1] ready list   P:ready
  KEYS[2] delayed zset P:delayed
  KEYS[3] leased zset  P:leased (score = lease expiry ms)
  KEYS[4] dead zset    P:dead

  ARGV[1] count
  ARGV[2] lease ms
  ARGV[3] token base (each job's token is <base>.<i>)
  ARGV[4] key prefix P

  Returns a list of {job fields...}, one per leased job.
]]
-- @include includes/now.lua
-- @include includes/jobFields.lua
local P = ARGV[4]
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  local jk = P .. ':job:' .. id
  redis.call('ZREM', KEYS[3], id)
  local v = redis.call('HMGET', jk, 'attempts', 'max')
  if v[1] then
    if tonumber(v[1]) >= tonumber(v[2]) then
      redis.call('HSET', jk, 'state', 'dead', 'err', 'lease expired', 'exp', 0, 'nb', 0)
      redis.call('ZADD', KEYS[4], now, id)
    else
      redis.call('HSET', jk, 'state', 'ready', 'err', 'lease expired', 'exp', 0)
      redis.call('LPUSH', KEYS[1], id)
    end
  end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('HSET', P .. ':job:' .. id, 'state', 'ready')
  redis.call('LPUSH', KEYS[1], id)
end
local ids = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
local out = {}
if not ids then return out end
local exp = now + tonumber(ARGV[2])
for i, id in ipairs(ids) do
  local jk = P .. ':job:' .. id
  if redis.call('EXISTS', jk) == 1 then
    redis.call('HINCRBY', jk, 'attempts', 1)
    redis.call('HSET', jk, 'state', 'leased', 'token', ARGV[3] .. '.' .. i, 'exp', exp)
    redis.call('ZADD', KEYS[3], exp, id)
    out[#out + 1] = redis.call('HMGET', jk, unpack(JOB_FIELDS))
  end
end
return out
