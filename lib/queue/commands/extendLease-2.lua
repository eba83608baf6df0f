--[[
  extendLease: moves the expiry of a lease the caller holds to now + lease ms.

  KEYS[1] job hash    P:job:<id>
  KEYS[2] leased zset P:leased

  ARGV[1] lease token
  ARGV[2] job id
  ARGV[3] lease ms

  Returns the new expiry (ms) or a lease-lost reason.
]]
-- @include includes/now.lua
-- @include includes/checkLease.lua
local err = checkLease(KEYS[1], ARGV[1])
if err then return err end
local exp = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'exp', exp)
redis.call('ZADD', KEYS[2], exp, ARGV[2])
return exp
