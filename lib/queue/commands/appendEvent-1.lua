--[[
  appendEvent: appends one CloudEvent to a log stream, trimmed to about
  `max length` entries, and wakes the stream's readers.

  KEYS[1] log stream <prefix>:{<stream>}

  ARGV[1] max length (approximate: MAXLEN ~)
  ARGV[2] wake channel
  ARGV[3] stream name (the wake message)
  ARGV[4..] pairs: field, value

  Returns the entry id (<ms>-<seq>).
]]
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 4))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return id
