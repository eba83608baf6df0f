--[[
  jobFields: the fields of a job hash a reader decodes, in the order the
  client expects them (RedisQueue's JOB_FIELDS lists the same names; a test
  checks it). `b` is the immutable body the client packed at enqueue (max
  attempts, kind, idempotency key, payload); `max` and `idem` are also kept
  as fields of their own for the scripts. A field never written reads as
  nil: attempts 0, no error.
  Defines: local JOB_FIELDS
]]
local JOB_FIELDS = {'b', 'created', 'attempts', 'nb', 'err', 'state'}
