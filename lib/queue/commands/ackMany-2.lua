--[[
  ackMany: marks leased jobs done (the batched form of ack: concurrent acks
  of one client coalesce into one call). An ack repeated with the token that
  completed the job is a no-op that still writes (so a following WAIT covers
  the original ack).

  KEYS[1] leased zset   P:leased
  KEYS[2] done counter  P:done

  ARGV[1] how long done jobs are kept, ms
  ARGV[2] key prefix P
  ARGV[3..] pairs: job id, lease token

  Returns one 'OK' or lease-lost reason per pair.
]]
-- @include includes/now.lua
local keep, P = tonumber(ARGV[1]), ARGV[2]
local out = {}
local acked = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local jk = P .. ':job:' .. id
  local v = redis.call('HMGET', jk, 'state', 'token', 'exp', 'idem')
  local r = 'OK'
  if not v[1] then r = 'unknown-job'
  elseif v[1] == 'done' and v[2] == token then redis.call('HINCRBY', jk, 'acks', 1)
  elseif v[1] ~= 'leased' then r = 'not-leased'
  elseif v[2] ~= token then r = 'token-mismatch'
  elseif tonumber(v[3]) <= now then r = 'expired'
  else
    redis.call('HSET', jk, 'state', 'done')
    redis.call('PEXPIRE', jk, keep)
    if v[4] and v[4] ~= '' then redis.call('PEXPIRE', P .. ':idem:' .. v[4], keep) end
    acked[#acked + 1] = id
  end
  out[#out + 1] = r
end
if #acked > 0 then
  redis.call('ZREM', KEYS[1], unpack(acked))
  redis.call('INCRBY', KEYS[2], #acked)
end
return out
