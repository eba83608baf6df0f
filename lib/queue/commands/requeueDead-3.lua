--[[
  requeueDead: moves a dead job back to ready with its attempts reset.

  KEYS[1] job hash   P:job:<id>
  KEYS[2] dead zset  P:dead
  KEYS[3] ready list P:ready

  ARGV[1] job id
  ARGV[2] key prefix P

  Returns 1, or 0 when the job is not dead.
]]
-- @include includes/now.lua
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ready', 'attempts', 0, 'nb', now, 'token', '', 'exp', 0)
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2] .. ':wake', '')
return 1
