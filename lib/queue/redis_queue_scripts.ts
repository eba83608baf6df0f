/**
 * Lua scripts of {@link RedisQueue}: every multi-key state transition is one
 * script, run atomically by Redis (internal).
 *
 * Keys, under the queue prefix `P` (a hash tag such as `{qmtl:q:diff}`):
 * `P:job:<id>` hash, `P:ready` list (LPUSH in, RPOP out), `P:delayed` zset
 * (score = not-before ms), `P:leased` zset (score = lease expiry ms),
 * `P:dead` zset (score = dead-letter ms), `P:idem:<key>` string → job id,
 * `P:done` counter. Channel `P:wake` is published when a job becomes ready.
 *
 * Job hash fields: `id kind payload idem attempts max created nb err state
 * token exp`. Time is the server's (`TIME`), so workers on machines with
 * skewed clocks agree on lease expiry.
 *
 * @module
 */

import type { Redis } from "ioredis";

/** Fields returned for a job, in this order. */
export const JOB_FIELDS: readonly string[] = [
  "id",
  "kind",
  "payload",
  "idem",
  "attempts",
  "max",
  "created",
  "nb",
  "err",
  "state",
  "token",
  "exp",
];

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const FIELDS =
  `{'id','kind','payload','idem','attempts','max','created','nb','err','state','token','exp'}`;

/**
 * enqueue — KEYS: job, idem (or any key when no idempotency key), ready,
 * delayed. ARGV: id, kind, payload, idemKey, maxAttempts, delayMs, prefix.
 * Returns {created(0|1), fields...}. Re-running it with the same job id
 * (a resend after a reconnect) returns that job as created.
 */
const ENQUEUE = `${NOW}
local jobKey, idemKey = KEYS[1], KEYS[2]
local fields = ${FIELDS}
if redis.call('EXISTS', jobKey) == 1 then
  return {1, redis.call('HMGET', jobKey, unpack(fields))}
end
if ARGV[4] ~= '' then
  local existing = redis.call('GET', idemKey)
  if existing then
    local ek = ARGV[7] .. ':job:' .. existing
    if redis.call('EXISTS', ek) == 1 then
      -- a write, so that a WAIT after this call also covers the original
      -- enqueue (a retry after a DurabilityError)
      redis.call('HINCRBY', ek, 'dups', 1)
      return {0, redis.call('HMGET', ek, unpack(fields))}
    end
  end
end
local delay = tonumber(ARGV[6])
local nb = now + delay
local state = 'ready'
if delay > 0 then state = 'delayed' end
redis.call('HSET', jobKey, 'id', ARGV[1], 'kind', ARGV[2], 'payload', ARGV[3], 'idem', ARGV[4],
  'attempts', 0, 'max', ARGV[5], 'created', now, 'nb', nb, 'err', '', 'state', state,
  'token', '', 'exp', 0)
if ARGV[4] ~= '' then redis.call('SET', idemKey, ARGV[1]) end
if delay > 0 then
  redis.call('ZADD', KEYS[4], nb, ARGV[1])
else
  redis.call('LPUSH', KEYS[3], ARGV[1])
  redis.call('PUBLISH', ARGV[7] .. ':wake', '')
end
return {1, redis.call('HMGET', jobKey, unpack(fields))}
`;

/**
 * lease — KEYS: ready, delayed, leased, dead. ARGV: count, leaseMs,
 * tokenBase, prefix. Reclaims expired leases (back to ready, or dead when
 * attempts are used up), promotes due delayed jobs, then pops up to count
 * ready jobs. Returns a list of {fields...}.
 */
const LEASE = `${NOW}
local P = ARGV[4]
local fields = ${FIELDS}
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  local jk = P .. ':job:' .. id
  redis.call('ZREM', KEYS[3], id)
  local v = redis.call('HMGET', jk, 'attempts', 'max')
  if v[1] then
    if tonumber(v[1]) >= tonumber(v[2]) then
      redis.call('HSET', jk, 'state', 'dead', 'err', 'lease expired', 'exp', 0, 'nb', 0)
      redis.call('ZADD', KEYS[4], now, id)
    else
      redis.call('HSET', jk, 'state', 'ready', 'err', 'lease expired', 'exp', 0)
      redis.call('LPUSH', KEYS[1], id)
    end
  end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('HSET', P .. ':job:' .. id, 'state', 'ready')
  redis.call('LPUSH', KEYS[1], id)
end
local ids = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
local out = {}
if not ids then return out end
local exp = now + tonumber(ARGV[2])
for i, id in ipairs(ids) do
  local jk = P .. ':job:' .. id
  if redis.call('EXISTS', jk) == 1 then
    redis.call('HINCRBY', jk, 'attempts', 1)
    redis.call('HSET', jk, 'state', 'leased', 'token', ARGV[3] .. '.' .. i, 'exp', exp)
    redis.call('ZADD', KEYS[3], exp, id)
    out[#out + 1] = redis.call('HMGET', jk, unpack(fields))
  end
end
return out
`;

/** Shared lease check: sets \`err\` to a LeaseLostReason or nil. */
const CHECK = `
local v = redis.call('HMGET', KEYS[1], 'state', 'token', 'exp')
local err = nil
if not v[1] then err = 'unknown-job'
elseif v[1] ~= 'leased' then err = 'not-leased'
elseif v[2] ~= ARGV[1] then err = 'token-mismatch'
elseif tonumber(v[3]) <= now then err = 'expired' end
`;

/**
 * ackMany — KEYS: leased, done. ARGV: retainDoneMs, prefix, then id, token
 * pairs. The batched form of ack (concurrent acks of one client coalesce
 * into one call). Returns one 'OK' or LeaseLostReason per pair.
 */
const ACK_MANY = `${NOW}
local keep, P = tonumber(ARGV[1]), ARGV[2]
local out = {}
local done = 0
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local jk = P .. ':job:' .. id
  local v = redis.call('HMGET', jk, 'state', 'token', 'exp', 'idem')
  local r = 'OK'
  if not v[1] then r = 'unknown-job'
  elseif v[1] == 'done' and v[2] == token then redis.call('HINCRBY', jk, 'acks', 1)
  elseif v[1] ~= 'leased' then r = 'not-leased'
  elseif v[2] ~= token then r = 'token-mismatch'
  elseif tonumber(v[3]) <= now then r = 'expired'
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', jk, 'state', 'done', 'exp', 0)
    redis.call('PEXPIRE', jk, keep)
    if v[4] and v[4] ~= '' then redis.call('PEXPIRE', P .. ':idem:' .. v[4], keep) end
    done = done + 1
  end
  out[#out + 1] = r
end
if done > 0 then redis.call('INCRBY', KEYS[2], done) end
return out
`;

/**
 * nack — KEYS: job, leased, delayed, ready, dead. ARGV: token, id,
 * retryAfterMs ('' = backoff), baseMs, maxMs, random, error, prefix.
 * Returns {state, attempts, notBefore} or a LeaseLostReason.
 */
const NACK = `${NOW}${CHECK}
if err then return err end
local id = ARGV[2]
redis.call('ZREM', KEYS[2], id)
local a = redis.call('HMGET', KEYS[1], 'attempts', 'max')
local attempts, max = tonumber(a[1]), tonumber(a[2])
redis.call('HSET', KEYS[1], 'err', ARGV[7], 'exp', 0)
if attempts >= max then
  redis.call('HSET', KEYS[1], 'state', 'dead', 'nb', 0)
  redis.call('ZADD', KEYS[5], now, id)
  return {'dead', attempts, 0}
end
local delay
if ARGV[3] ~= '' then
  delay = tonumber(ARGV[3])
else
  local n = math.min(math.max(attempts, 1) - 1, 52)
  local raw = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * (2 ^ n))
  delay = math.floor(raw / 2 + (raw / 2) * tonumber(ARGV[6]))
end
local nb = now + delay
if delay > 0 then
  redis.call('HSET', KEYS[1], 'state', 'delayed', 'nb', nb)
  redis.call('ZADD', KEYS[3], nb, id)
  return {'delayed', attempts, nb}
end
redis.call('HSET', KEYS[1], 'state', 'ready', 'nb', nb)
redis.call('LPUSH', KEYS[4], id)
redis.call('PUBLISH', ARGV[8] .. ':wake', '')
return {'ready', attempts, nb}
`;

/**
 * extend — KEYS: job, leased. ARGV: token, id, leaseMs.
 * Returns the new expiry or a LeaseLostReason.
 */
const EXTEND = `${NOW}${CHECK}
if err then return err end
local exp = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'exp', exp)
redis.call('ZADD', KEYS[2], exp, ARGV[2])
return exp
`;

/**
 * requeue — KEYS: job, dead, ready. ARGV: id, prefix. Returns 1 or 0.
 */
const REQUEUE = `${NOW}
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ready', 'attempts', 0, 'nb', now, 'token', '', 'exp', 0)
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2] .. ':wake', '')
return 1
`;

/** Script name → [number of keys, source]. */
export const QUEUE_SCRIPTS: Record<string, [number, string]> = {
  qmtlQueueEnqueue: [4, ENQUEUE],
  qmtlQueueLease: [4, LEASE],
  qmtlQueueAckMany: [2, ACK_MANY],
  qmtlQueueNack: [5, NACK],
  qmtlQueueExtend: [2, EXTEND],
  qmtlQueueRequeue: [3, REQUEUE],
};

/**
 * Defines every script on `redis` (ioredis runs them with EVALSHA and falls
 * back to EVAL on NOSCRIPT, e.g. on a freshly promoted master).
 */
export function defineScripts(
  redis: Redis,
  scripts: Record<string, [number, string]>,
): void {
  for (const [name, [numberOfKeys, lua]] of Object.entries(scripts)) {
    // deno-lint-ignore no-explicit-any
    if (typeof (redis as any)[name] !== "function") {
      redis.defineCommand(name, { numberOfKeys, lua });
    }
  }
}

/** Calls a script defined by {@link defineScripts}; `buffer` for raw bytes. */
export function runScript(
  redis: Redis,
  name: string,
  buffer: boolean,
  args: (string | number | Uint8Array)[],
): Promise<unknown> {
  // deno-lint-ignore no-explicit-any
  const fn = (redis as any)[buffer ? `${name}Buffer` : name];
  return fn.apply(redis, args);
}
