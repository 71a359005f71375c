package cluster

import "github.com/redis/go-redis/v9"

// The lease scripts run atomically in Redis; every write of a leader goes
// through one of them so that Redis itself refuses a stale token.

// acquireScript: KEYS lease, token; ARGV node, ttl_ms, floor.
// Returns {1, token} when this node holds the lease (new or already its own),
// {0, token, holder, pttl} when another node does. A new token is
// max(counter, floor)+1: floor is the highest token the caller has seen, so
// tokens keep increasing even if Redis lost its data.
var acquireScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] then
  if h[1] == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(h[2])}
  end
  return {0, tonumber(h[2]), h[1], redis.call('PTTL', KEYS[1])}
end
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
local floor = tonumber(ARGV[3])
if floor > c then c = floor end
c = c + 1
redis.call('SET', KEYS[2], c)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', c)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, c}
`)

// renewScript: KEYS lease, token; ARGV node, token, ttl_ms.
// Extends the lease if this node holds it with this token. If the lease is
// gone (expired, or Redis restarted without it) and no newer token was
// issued, the holder takes it back with the same token. Otherwise STALE.
var renewScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
local tok = tonumber(ARGV[2])
if h[1] == ARGV[1] and tonumber(h[2]) == tok then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not h[1] then
  local c = tonumber(redis.call('GET', KEYS[2]) or '0')
  if c <= tok then
    redis.call('SET', KEYS[2], tok)
    redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', tok)
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
  end
  return redis.error_reply('STALE lease expired and token ' .. c .. ' was issued since')
end
return redis.error_reply('STALE held by ' .. h[1] .. ' with token ' .. tostring(h[2]))
`)

// releaseScript: KEYS lease; ARGV node, token. Deletes the lease if held.
var releaseScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] == ARGV[1] and tonumber(h[2]) == tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// handoverScript: KEYS lease, token; ARGV node, token, successor, ttl_ms.
// Moves a held lease to successor with a new token (drain).
var handoverScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] ~= ARGV[1] or tonumber(h[2]) ~= tonumber(ARGV[2]) then
  return redis.error_reply('STALE not the holder')
end
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > c then c = tonumber(ARGV[2]) end
c = c + 1
redis.call('SET', KEYS[2], c)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'holder', ARGV[3], 'token', c)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return c
`)

// fencedHSetScript: KEYS lease, target; ARGV node, token, field, value, ...
// Writes fields of target only while node holds the lease with token.
var fencedHSetScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] ~= ARGV[1] or tonumber(h[2]) ~= tonumber(ARGV[2]) then
  return redis.error_reply('STALE token ' .. ARGV[2] .. ' of ' .. ARGV[1] .. ' (current ' .. tostring(h[1]) .. '/' .. tostring(h[2]) .. ')')
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1])
end
return 1
`)

// putStateScript: KEYS lease, state; ARGV node, token, blob, rendition, msn, ...
// The fenced state write: refuses a stale token and any media sequence that
// would go back.
var putStateScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
if h[1] ~= ARGV[1] or tonumber(h[2]) ~= tonumber(ARGV[2]) then
  return redis.error_reply('STALE token ' .. ARGV[2] .. ' of ' .. ARGV[1] .. ' (current ' .. tostring(h[1]) .. '/' .. tostring(h[2]) .. ')')
end
for i = 4, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', KEYS[2], 'msn:' .. ARGV[i]) or '0')
  if tonumber(ARGV[i+1]) < old then
    return redis.error_reply('MSNBACK ' .. ARGV[i] .. ' ' .. ARGV[i+1] .. ' < ' .. old)
  end
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], 'msn:' .. ARGV[i], ARGV[i+1])
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'blob', ARGV[3], 'token', ARGV[2], 'holder', ARGV[1], 'updated_ms', t[1] * 1000 + math.floor(t[2] / 1000))
return 1
`)
