--[[
  deleteTopic: removes a topic from the registry with its bars and lease,
  and wakes its readers.

  KEYS[1] registry hash <prefix>:registry
  KEYS[2] topic stream  <prefix>:t:<topic>
  KEYS[3] lease hash    <prefix>:lease:<topic>
  KEYS[4] last holder   <prefix>:lease-last:<topic>

  ARGV[1] topic name
  ARGV[2] wake channel

  Returns 1, or 0 when the topic did not exist.
]]
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if n == 1 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
return n
