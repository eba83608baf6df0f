--[[
  appendLinked: appends one CloudEvent to two log streams in one step (a
  strategy's own stream and the global one), so that either both carry it
  or neither does, and wakes the readers of both. Idempotent per event id
  by the first stream: when one of its last `window` entries already
  carries the event's id, nothing is appended to either stream.

  KEYS[1] first log stream <prefix>:{<stream>}
  KEYS[2] second log stream <prefix>:{<also>}

  ARGV[1] max length of each stream (approximate: MAXLEN ~)
  ARGV[2] wake channel
  ARGV[3] first stream name (a wake message)
  ARGV[4] second stream name (a wake message)
  ARGV[5] event id
  ARGV[6] window: how many of the first stream's last entries are searched
  ARGV[7..] pairs: field, value (the first pair is "id", <event id>)

  Returns { appended (1 or 0), the first stream's entry id (<ms>-<seq>),
  the second stream's entry id or "" when nothing was appended }.
]]
-- @include includes/recentEntry.lua
local found = recentEntry(KEYS[1], ARGV[5], ARGV[6])
if found then return { 0, found, '' } end
local first = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 7))
local second = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 7))
redis.call('PUBLISH', ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[2], ARGV[4])
return { 1, first, second }
