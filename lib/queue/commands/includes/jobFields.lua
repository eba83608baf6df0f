--[[
  jobFields: the fields of a job hash, in the order the client decodes them
  (RedisQueue's JOB_FIELDS must list the same names; a test checks it).
  Defines: local JOB_FIELDS
]]
local JOB_FIELDS = {'id', 'kind', 'payload', 'idem', 'attempts', 'max', 'created', 'nb', 'err', 'state', 'token', 'exp'}
