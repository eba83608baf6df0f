--[[
  acquireLease: grants (or renews, given the grant's token) the producer
  lease of a topic, expiring by the server's clock.

  KEYS[1] registry hash    <prefix>:registry
  KEYS[2] lease hash       <prefix>:lease:<topic> (holder, token; PEXPIRE = lease)
  KEYS[3] last holder      <prefix>:lease-last:<topic>

  ARGV[1] topic name
  ARGV[2] holder
  ARGV[3] ttl ms
  ARGV[4] token of the grant to renew ('' = new grant)
  ARGV[5] fresh token

  Returns {granted, holder, token, ttl ms, takeover, previous holder}, or
  {-1} when the topic does not exist.
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {-1} end
local cur = redis.call('HMGET', KEYS[2], 'holder', 'token')
if cur[2] then
  if ARGV[4] ~= '' and cur[2] == ARGV[4] then
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
    return {1, cur[1], cur[2], tonumber(ARGV[3]), 0, ''}
  end
  return {0, cur[1], '', redis.call('PTTL', KEYS[2]), 0, ''}
end
local prev = redis.call('GET', KEYS[3]) or ''
redis.call('HSET', KEYS[2], 'holder', ARGV[2], 'token', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[2])
local takeover = 0
if prev ~= '' and prev ~= ARGV[2] then takeover = 1 else prev = '' end
return {1, ARGV[2], ARGV[5], tonumber(ARGV[3]), takeover, prev}
