--[[
  now: the Redis server's clock in milliseconds, so that workers on machines
  with skewed clocks agree on lease expiry and delays.
  Defines: local now
]]
local now
do
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
