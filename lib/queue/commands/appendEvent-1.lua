--[[
  appendEvent: appends one CloudEvent to a log stream, trimmed to about
  `max length` entries, and wakes the stream's readers. Idempotent per
  event id: when one of the stream's last `window` entries already carries
  the event's id (a retried append whose first attempt did land, e.g. its
  reply was lost in a failover), nothing is appended and that entry's id
  is returned.

  KEYS[1] log stream <prefix>:{<stream>}

  ARGV[1] max length (approximate: MAXLEN ~)
  ARGV[2] wake channel
  ARGV[3] stream name (the wake message)
  ARGV[4] event id
  ARGV[5] window: how many of the last entries are searched for the id
  ARGV[6..] pairs: field, value (the first pair is "id", <event id>)

  Returns the entry id (<ms>-<seq>).
]]
-- @include includes/recentEntry.lua
local found = recentEntry(KEYS[1], ARGV[4], ARGV[5])
if found then return found end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 6))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return id
