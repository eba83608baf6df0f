--[[
  lease: reclaims expired leases (back to ready, or dead when attempts are
  used up), promotes due delayed jobs, then leases up to `count` ready jobs,
  oldest first.

  KEYS[1] ready list   P:ready
  KEYS[2] delayed zset P:delayed
  KEYS[3] leased zset  P:leased (score = lease expiry ms)
  KEYS[4] dead zset    P:dead

  ARGV[1] count
  ARGV[2] lease ms
  ARGV[3] token base (the n-th job returned gets token <base>.<n>)
  ARGV[4] key prefix P

  Returns {lease expiry ms, then five values per leased job: job id, b,
  created, attempts (this lease counted), nb, err}. The n-th job's token is
  <token base>.<n>.
]]
-- @include includes/now.lua
local P = ARGV[4]
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  local jk = P .. ':job:' .. id
  redis.call('ZREM', KEYS[3], id)
  local v = redis.call('HMGET', jk, 'attempts', 'max')
  if v[2] then
    if tonumber(v[1] or 0) >= tonumber(v[2]) then
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
local exp = now + tonumber(ARGV[2])
local out = {exp}
local ids = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not ids then return out end
local zadd = {}
local n = 0
for _, id in ipairs(ids) do
  local jk = P .. ':job:' .. id
  local v = redis.call('HMGET', jk, 'b', 'created', 'attempts', 'nb', 'err')
  -- no body: the hash is gone (e.g. purged)
  if v[1] then
    n = n + 1
    local attempts = (tonumber(v[3]) or 0) + 1
    redis.call('HSET', jk, 'attempts', attempts, 'state', 'leased', 'token', ARGV[3] .. '.' .. n,
      'exp', exp)
    zadd[#zadd + 1] = exp
    zadd[#zadd + 1] = id
    out[#out + 1] = id
    out[#out + 1] = v[1]
    out[#out + 1] = v[2]
    out[#out + 1] = attempts
    out[#out + 1] = v[4]
    out[#out + 1] = v[5]
  end
end
if n > 0 then redis.call('ZADD', KEYS[3], unpack(zadd)) end
return out
