--[[
  release: gives back a leased job that was not worked on (e.g. prefetched by
  a worker that stops): back to the head of the ready list, its attempt
  returned, the lease token void.

  KEYS[1] job hash    P:job:<id>
  KEYS[2] leased zset P:leased
  KEYS[3] ready list  P:ready

  ARGV[1] lease token
  ARGV[2] job id
  ARGV[3] key prefix P

  Returns 'OK' or a lease-lost reason.
]]
-- @include includes/now.lua
-- @include includes/checkLease.lua
local err = checkLease(KEYS[1], ARGV[1])
if err then return err end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HSET', KEYS[1], 'state', 'ready', 'token', '', 'exp', 0)
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('PUBLISH', ARGV[3] .. ':wake', '')
return 'OK'
