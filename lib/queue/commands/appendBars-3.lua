--[[
  appendBars: appends the bars after the topic's last one (the rest are
  dropped and counted), trims by length and retention, and wakes readers.
  With a fence token, refused unless that grant holds the producer lease.

  KEYS[1] registry hash <prefix>:registry
  KEYS[2] topic stream  <prefix>:t:<topic>
  KEYS[3] lease hash    <prefix>:lease:<topic>

  ARGV[1] topic name
  ARGV[2] fence token ('' = no fence)
  ARGV[3] wake channel
  ARGV[4..] pairs: bar time ms, bar data, in increasing time

  Returns {accepted, dropped, last ms}, {-1} when the topic does not exist,
  or {-2, holder} when fenced off.
]]
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return {-1} end
if ARGV[2] ~= '' then
  local cur = redis.call('HMGET', KEYS[3], 'holder', 'token')
  if cur[2] ~= ARGV[2] then return {-2, cur[1] or ''} end
end
local info = cjson.decode(json)
local lastMs = -1
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #top > 0 then lastMs = tonumber(string.match(top[1][1], '^(%d+)')) end
local acc, drop = 0, 0
for i = 4, #ARGV, 2 do
  local ms = tonumber(ARGV[i])
  if ms > lastMs then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', info.maxLen, ARGV[i] .. '-1', 'd', ARGV[i + 1])
    lastMs = ms
    acc = acc + 1
  else
    drop = drop + 1
  end
end
if acc > 0 then
  local minId = lastMs - info.retentionMs
  if minId > 0 then
    redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', minId))
  end
  redis.call('PUBLISH', ARGV[3], ARGV[1])
end
return {acc, drop, lastMs}
