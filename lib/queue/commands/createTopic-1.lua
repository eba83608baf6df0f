--[[
  createTopic: registers a topic unless it exists (first metadata wins).

  KEYS[1] registry hash <prefix>:registry (topic → JSON metadata)

  ARGV[1] topic name
  ARGV[2] retention ms
  ARGV[3] max length

  Returns {created (0|1), metadata JSON}.
]]
-- @include includes/now.lua
local json = cjson.encode({name = ARGV[1], retentionMs = tonumber(ARGV[2]),
  maxLen = tonumber(ARGV[3]), createdAtMs = now})
if redis.call('HSETNX', KEYS[1], ARGV[1], json) == 1 then return {1, json} end
return {0, redis.call('HGET', KEYS[1], ARGV[1])}
