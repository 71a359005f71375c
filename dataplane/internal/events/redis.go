package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	policy "github.com/zonecast/zonecast/policies/events"
)

// Redis is a region's queue: a Redis Stream the region's nodes share, with
// one consumer group. Events outlive the node that queued them, and one
// node of the region at a time (the holder of the deliverer lock) delivers
// them: on taking the lock it first claims every entry another deliverer
// took and did not acknowledge (XAUTOCLAIM), oldest first, then reads new
// ones. One deliverer keeps each stream's events in order; a second one
// running at the same time could swap two of them at the receiver.
//
// Keys (the lease and a stream's event state share the {stream} hash tag;
// the scripts touch the queue too, so they need Redis without cluster
// mode, as the leases' Sentinel deployment is):
//
//	zc:events:<region>              stream  the queued events
//	zc:events:<region>:deliverer    string  the deliverer lock (node and nonce)
//	zc:{<stream>}:events            hash    seq, live, leader: the announced state
type Redis struct {
	rdb    redis.UniversalClient
	key    string
	lock   string
	node   string
	policy policy.Delivery

	mu      sync.Mutex
	until   time.Time // the session may deliver until then (monotonic)
	nonce   string
	claimed bool   // this session's claim of older pending entries is done
	cursor  string // XAUTOCLAIM's next start while claiming
}

const group = "deliverers"

// NewRedis returns the queue of region, delivered by node.
func NewRedis(rdb redis.UniversalClient, region, node string, p policy.Delivery) *Redis {
	return &Redis{rdb: rdb, key: "zc:events:" + region, lock: "zc:events:" + region + ":deliverer", node: node, policy: p}
}

func stateKey(stream string) string { return "zc:{" + stream + "}:events" }

// enqueueScript: KEYS queue, state, lease; ARGV op, holder, token, fenced,
// maxlen, reason, id, type, time, stream, node, region, zone, data, successor.
// Checks the fence, decides the live-state op's type (see op), numbers the
// event in its stream and adds it to the queue, in one step.
var enqueueScript = redis.NewScript(`
if ARGV[4] == '1' then
  local h = redis.call('HMGET', KEYS[3], 'holder', 'token')
  if h[1] ~= ARGV[2] or tonumber(h[2]) ~= tonumber(ARGV[3]) then
    return redis.error_reply('STALE token ' .. ARGV[3] .. ' of ' .. ARGV[2] .. ' (current ' .. tostring(h[1]) .. '/' .. tostring(h[2]) .. ')')
  end
end
local op, typ, data, node = ARGV[1], ARGV[8], ARGV[14], ARGV[11]
local st = redis.call('HMGET', KEYS[2], 'live', 'leader')
local live = st[1] == '1'
if op == 'lead' then
  if live and st[2] == node then
    return {0, ''}
  end
  if live then
    typ = 'stream.failover'
    local d = cjson.decode(data)
    d['previous_leader'] = st[2]
    d['reason'] = ARGV[6]
    data = cjson.encode(d)
  else
    typ = 'stream.live'
  end
  redis.call('HSET', KEYS[2], 'live', '1', 'leader', node)
elseif op == 'idle' then
  if not live or st[2] ~= node then
    return {0, ''}
  end
  redis.call('HSET', KEYS[2], 'live', '0')
  typ = 'stream.idle'
elseif op == 'switch' then
  typ = 'stream.input_switched'
  redis.call('HSET', KEYS[2], 'live', '1', 'leader', ARGV[15])
end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[7], 'type', typ, 'time', ARGV[9],
  'stream', ARGV[10], 'seq', seq, 'node', node, 'region', ARGV[12], 'zone', ARGV[13], 'data', data)
return {1, typ}
`)

func (q *Redis) enqueue(ctx context.Context, r request) (Type, bool, error) {
	data, err := json.Marshal(orEmpty(r.env.Data))
	if err != nil {
		return r.env.Type, false, fmt.Errorf("events: data of %s: %w", r.env.Type, err)
	}
	lease, holder, token, fenced := q.key, "", uint64(0), "0"
	if r.fence != nil {
		lease, holder, token, fenced = r.fence.Key, r.fence.Holder, r.fence.Token, "1"
	}
	e := r.env
	res, err := enqueueScript.Run(ctx, q.rdb, []string{q.key, stateKey(e.Stream), lease},
		string(r.op), holder, token, fenced, q.policy.Retain, r.reason,
		e.ID, string(e.Type), e.Time.UTC().Format(time.RFC3339Nano), e.Stream, e.Node, e.Region, e.Zone, string(data), r.successor).Slice()
	if err != nil {
		if strings.HasPrefix(err.Error(), "STALE") {
			return e.Type, false, fmt.Errorf("%w: %v", ErrStale, err)
		}
		return e.Type, false, err
	}
	if len(res) != 2 {
		return e.Type, false, fmt.Errorf("events: unexpected enqueue answer %v", res)
	}
	typ, _ := res[1].(string)
	return Type(typ), res[0] == int64(1), nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// renewLockScript: KEYS lock; ARGV nonce, ttl_ms. Extends the lock if held.
var renewLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// session waits for the region's deliverer lock. The session's context
// ends on this node's own clock ClockMargin before the lock could expire
// unrenewed, so a frozen or cut-off deliverer stops before another starts.
func (q *Redis) session(ctx context.Context) (context.Context, error) {
	nonce := q.node + ":" + NewID()
	if err := q.rdb.XGroupCreateMkStream(ctx, q.key, group, "0").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return nil, err
	}
	ttl := q.policy.LockTTL
	for {
		start := time.Now()
		ok, err := q.rdb.SetNX(ctx, q.lock, nonce, ttl).Result()
		if err == nil && ok {
			sctx, cancel := context.WithCancel(ctx)
			q.mu.Lock()
			q.nonce, q.claimed, q.cursor = nonce, false, "0-0"
			q.until = start.Add(ttl - q.policy.ClockMargin)
			q.mu.Unlock()
			go q.keep(sctx, cancel, nonce, start)
			return sctx, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(ttl / 4):
		}
	}
}

// keep renews the lock and ends the session when it cannot be sure of it.
func (q *Redis) keep(ctx context.Context, cancel context.CancelFunc, nonce string, since time.Time) {
	defer cancel()
	defer q.invalidate()
	ttl := q.policy.LockTTL
	valid := since.Add(ttl - q.policy.ClockMargin)
	tick := time.NewTicker(ttl / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Let another node take over at once.
			rctx, c := context.WithTimeout(context.Background(), ttl/4)
			_ = q.rdb.Eval(rctx, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, []string{q.lock}, nonce).Err()
			c()
			return
		case <-tick.C:
		}
		start := time.Now()
		rctx, c := context.WithTimeout(ctx, ttl/4)
		n, err := renewLockScript.Run(rctx, q.rdb, []string{q.lock}, nonce, ttl.Milliseconds()).Int()
		c()
		switch {
		case err == nil && n == 1:
			valid = start.Add(ttl - q.policy.ClockMargin)
			q.mu.Lock()
			q.until = valid
			q.mu.Unlock()
		case err == nil:
			q.invalidate()
			return // another node holds it
		}
		if time.Now().After(valid) {
			q.invalidate()
			return
		}
	}
}

func (q *Redis) valid() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return time.Now().Before(q.until)
}

func (q *Redis) invalidate() {
	q.mu.Lock()
	q.until = time.Time{}
	q.mu.Unlock()
}

func (q *Redis) fetch(ctx context.Context, max int) ([]Entry, error) {
	q.mu.Lock()
	claimed, cursor := q.claimed, q.cursor
	q.mu.Unlock()
	if !claimed {
		// Everything handed out before this session (to a deliverer that
		// died, or to this one earlier) and never acknowledged, in queue
		// order: older than anything not yet handed out.
		msgs, next, err := q.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: q.key, Group: group, Consumer: q.node,
			Start: cursor, Count: int64(max)}).Result()
		if err != nil {
			return nil, err
		}
		q.mu.Lock()
		q.cursor = next
		q.claimed = next == "0-0"
		q.mu.Unlock()
		return q.entries(msgs), nil
	}
	res, err := q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: q.node, Streams: []string{q.key, ">"},
		Count: int64(max), Block: time.Second}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, s := range res {
		out = append(out, q.entries(s.Messages)...)
	}
	return out, nil
}

func (q *Redis) entries(msgs []redis.XMessage) []Entry {
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if m.Values == nil {
			continue // trimmed away while pending
		}
		out = append(out, Entry{QID: m.ID, Env: decode(m.Values)})
	}
	return out
}

func decode(v map[string]any) Envelope {
	s := func(k string) string { x, _ := v[k].(string); return x }
	e := Envelope{ID: s("id"), Type: Type(s("type")), Stream: s("stream"), Node: s("node"), Region: s("region"), Zone: s("zone")}
	e.Time, _ = time.Parse(time.RFC3339Nano, s("time"))
	e.Seq, _ = strconv.ParseInt(s("seq"), 10, 64)
	_ = json.Unmarshal([]byte(s("data")), &e.Data)
	return e
}

// ack acknowledges and removes the entry: the queue holds only what is
// still to be delivered.
func (q *Redis) ack(ctx context.Context, qid string) error {
	p := q.rdb.TxPipeline()
	p.XAck(ctx, q.key, group, qid)
	p.XDel(ctx, q.key, qid)
	_, err := p.Exec(ctx)
	return err
}

func (q *Redis) backlog(ctx context.Context) (int64, time.Time, error) {
	p := q.rdb.Pipeline()
	n := p.XLen(ctx, q.key)
	first := p.XRangeN(ctx, q.key, "-", "+", 1)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, time.Time{}, err
	}
	var oldest time.Time
	if ms := first.Val(); len(ms) == 1 {
		// A stream entry's id begins with the Redis time it was added at.
		ts, _ := strconv.ParseInt(strings.SplitN(ms[0].ID, "-", 2)[0], 10, 64)
		oldest = time.UnixMilli(ts)
	}
	return n.Val(), oldest, nil
}
