--[[
  releaseLease: ends a producer lease, if the token still holds it.

  KEYS[1] lease hash  <prefix>:lease:<topic>
  KEYS[2] last holder <prefix>:lease-last:<topic>

  ARGV[1] token

  Returns 1, or 0 when the token does not hold the lease.
]]
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
