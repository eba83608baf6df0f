--[[
  checkLease(jobKey, token): why the caller does not hold the lease on the
  job, or nil when it does (state leased, same token, not expired).
  Needs: now
  Defines: local function checkLease
]]
local function checkLease(jobKey, token)
  local v = redis.call('HMGET', jobKey, 'state', 'token', 'exp')
  if not v[1] then return 'unknown-job' end
  if v[1] ~= 'leased' then return 'not-leased' end
  if v[2] ~= token then return 'token-mismatch' end
  if tonumber(v[3]) <= now then return 'expired' end
  return nil
end
