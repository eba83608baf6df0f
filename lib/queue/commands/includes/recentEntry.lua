--[[
  recentEntry(key, eventId, window): the entry id of the stream entry among
  the last `window` of stream `key` whose `id` field is `eventId`, or nil.
  Defines: local function recentEntry
]]
local function recentEntry(key, eventId, window)
  local recent = redis.call('XREVRANGE', key, '+', '-', 'COUNT', window)
  for _, entry in ipairs(recent) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'id' then
        if fields[i + 1] == eventId then return entry[1] end
        break
      end
    end
  end
  return nil
end
