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

// The registry and fencing scripts build the node keys they read from ids
// (zc:node:<id>, zc:seen:<id>, zc:fence:<id>, as in client.go): the set
// of nodes is only known inside the script. That is fine on the single
// primary zonecast runs (Sentinel or ElastiCache without cluster mode).

// heartbeatScript: KEYS node, nodes, seen, fence; ARGV id, ttl_ms,
// record_ms, quiet_ms, ready ("1"/"0"), field, value, ...
// Writes the node's entry with its last heartbeat on Redis's clock
// (seen_ms) and since when it has said ready without a gap of QuietAfter
// (ready_since_ms, 0 while not ready), remembers the heartbeat for
// record_ms, and clears a fence recorded against the node, returning it
// ("" when there was none).
var heartbeatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local since = tonumber(redis.call('HGET', KEYS[1], 'ready_since_ms') or '0')
if ARGV[5] ~= '1' or now - last >= tonumber(ARGV[4]) then since = 0 end
if ARGV[5] == '1' and since == 0 then since = now end
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
end
redis.call('HSET', KEYS[1], 'seen_ms', now, 'ready_since_ms', since)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], now, 'PX', ARGV[3])
local f = redis.call('GET', KEYS[4])
if f then
  redis.call('DEL', KEYS[4])
  return f
end
return ''
`)

// Verdicts of fenceScript.
const (
	fenceRecorded = 1 // this caller fenced the node: it acts
	fenceAlready  = 2 // another caller did (or this one, earlier)
	fenceFresh    = 3 // the node heartbeated within the quiet time
	fenceHolder   = 4 // the node still holds the lease
	fenceNotPast  = 5 // no token after the node's was issued
	fenceUnknown  = 6 // no heartbeat remembered: left on purpose, or long gone
)

// fenceScript: KEYS seen, lease, token, fence; ARGV node, token, quiet_ms,
// record_ms. The agreement to fence node, which held the stream's lease
// with token: it no longer holds it, a later token was issued, and Redis
// has heard no heartbeat from it for quiet_ms (Redis's clock). Records the
// fence (the token it is fenced under) so that exactly one caller acts.
// Returns {verdict, n}: n is the token for fenceRecorded, fenceAlready,
// fenceHolder and fenceNotPast, the heartbeat's age for fenceFresh.
var fenceScript = redis.NewScript(`
local f = redis.call('GET', KEYS[4])
if f then return {2, tonumber(f)} end
local h = redis.call('HMGET', KEYS[2], 'holder', 'token')
if h[1] == ARGV[1] then return {4, tonumber(h[2])} end
local c = tonumber(redis.call('GET', KEYS[3]) or '0')
if c <= tonumber(ARGV[2]) then return {5, c} end
local seen = redis.call('GET', KEYS[1])
if not seen then return {6, 0} end
local t = redis.call('TIME')
local age = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(seen)
if age < tonumber(ARGV[3]) then return {3, age} end
redis.call('SET', KEYS[4], c, 'PX', ARGV[4])
return {1, c}
`)

// Verdicts of zoneScript.
const (
	zoneUp       = 0 // a node of the zone heartbeats (or none was fenced)
	zoneLost     = 1 // this caller recorded the loss: it sets the weight to 0
	zoneRestored = 2 // this caller cleared the loss: it puts the weight back
	zoneDown     = 3 // the loss is recorded, the zone is not healthy yet
)

// zoneScript: KEYS zonefence, nodes; ARGV region, zone, quiet_ms,
// healthy_ms, endpoint, endpoint_group, id, ... (the zone's nodes the
// caller knows of).
// The zone is lost when none of its nodes has heartbeated for quiet_ms and
// at least one of them was fenced (a death agreed here, not a zone emptied
// on purpose); it is healthy again once one of its nodes has said ready
// for healthy_ms. Each change is recorded so that exactly one caller acts.
// Returns {verdict} or, for zoneRestored, {2, previous_weight, endpoint,
// endpoint_group} as recorded at the loss.
var zoneScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local quiet, healthy_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local fresh, healthy = false, false
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local h = redis.call('HMGET', 'zc:node:' .. id, 'region', 'zone', 'seen_ms', 'ready_since_ms')
  if h[1] == ARGV[1] and h[2] == ARGV[2] and h[3] and now - tonumber(h[3]) < quiet then
    fresh = true
    local rs = tonumber(h[4] or '0')
    if rs > 0 and now - rs >= healthy_ms then healthy = true end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  if healthy then
    local z = redis.call('HMGET', KEYS[1], 'previous', 'endpoint', 'group')
    redis.call('DEL', KEYS[1])
    return {2, z[1] or '', z[2] or '', z[3] or ''}
  end
  return {3}
end
if fresh then return {0} end
local fenced = false
for i = 7, #ARGV do
  local seen = redis.call('GET', 'zc:seen:' .. ARGV[i])
  if seen and now - tonumber(seen) < quiet then return {0} end
  if redis.call('EXISTS', 'zc:fence:' .. ARGV[i]) == 1 then fenced = true end
end
if not fenced then return {0} end
redis.call('HSET', KEYS[1], 'since_ms', now, 'endpoint', ARGV[5], 'group', ARGV[6])
return {1}
`)

// zonePreviousScript: KEYS zonefence; ARGV weight. Remembers the weight a
// lost zone had, unless the loss was cleared meanwhile.
var zonePreviousScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'previous', ARGV[1])
return 1
`)
