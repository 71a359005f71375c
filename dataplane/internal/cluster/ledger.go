package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/policies/failover"
)

// Ledger is zonecast's record in Redis, which the twin zones agree on:
// leases, fenced writes, successor state and the node registry. (store.Store
// is something else: a node's media objects.)
// It is safe for concurrent use.
type Ledger struct {
	rdb     redis.UniversalClient
	timings failover.Timings
	fencing failover.Fencing
}

// NewLedger uses rdb (normally from NewRedis) with the given timings and
// the shipped fencing policy (WithFencing changes it).
func NewLedger(rdb redis.UniversalClient, t failover.Timings) *Ledger {
	return &Ledger{rdb: rdb, timings: t, fencing: failover.DefaultFencing}
}

// WithFencing is the ledger with another fencing policy: how long a node
// must be quiet before it may be fenced, how long its last heartbeat is
// remembered.
func (s *Ledger) WithFencing(f failover.Fencing) *Ledger {
	c := *s
	c.fencing = f
	return &c
}

// Fencing is the fencing policy the ledger was built with.
func (s *Ledger) Fencing() failover.Fencing { return s.fencing }

// Redis is the underlying client.
func (s *Ledger) Redis() redis.UniversalClient { return s.rdb }

// Timings are the failover timings the ledger was built with.
func (s *Ledger) Timings() failover.Timings { return s.timings }

// Lease is a stream's current lease as Redis sees it.
type Lease struct {
	Stream  string
	Holder  string // empty when nobody holds it
	Token   uint64
	Standby string
	TTL     time.Duration
}

// Grant is the answer to an acquisition: Held says whether this node got
// (or already had) the lease; otherwise Current describes who has it.
type Grant struct {
	Held    bool
	Token   uint64
	Current Lease
	// Previous is, for a lease taken over by AwaitLease, the last lease it
	// saw held by another node: whom this node succeeds (fencing).
	Previous Lease
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// Acquire tries to take the stream's lease for node. floor is the highest
// token the caller has seen for the stream (0 if none).
func (s *Ledger) Acquire(ctx context.Context, stream, node string, floor uint64) (Grant, error) {
	res, err := acquireScript.Run(ctx, s.rdb, []string{keyLease(stream), keyToken(stream)}, node, ms(s.timings.LeaseTTL), floor).Slice()
	if err != nil {
		return Grant{}, classify(err)
	}
	if len(res) < 2 {
		return Grant{}, fmt.Errorf("cluster: acquire answered %v", res)
	}
	tok := toUint(res[1])
	if toInt(res[0]) == 1 {
		return Grant{Held: true, Token: tok, Current: Lease{Stream: stream, Holder: node, Token: tok, TTL: s.timings.LeaseTTL}}, nil
	}
	g := Grant{Current: Lease{Stream: stream, Token: tok}}
	if len(res) >= 4 {
		g.Current.Holder, _ = res[2].(string)
		g.Current.TTL = time.Duration(toInt(res[3])) * time.Millisecond
	}
	return g, nil
}

// Renew extends node's lease held with token. ErrStale means it is lost.
func (s *Ledger) Renew(ctx context.Context, stream, node string, token uint64) error {
	return classify(renewScript.Run(ctx, s.rdb, []string{keyLease(stream), keyToken(stream)}, node, token, ms(s.timings.LeaseTTL)).Err())
}

// Release gives the lease up (true if it was still held).
func (s *Ledger) Release(ctx context.Context, stream, node string, token uint64) (bool, error) {
	n, err := releaseScript.Run(ctx, s.rdb, []string{keyLease(stream)}, node, token).Int()
	return n == 1, classify(err)
}

// Handover moves node's lease to successor under a new token and returns it.
func (s *Ledger) Handover(ctx context.Context, stream, node string, token uint64, successor string) (uint64, error) {
	n, err := handoverScript.Run(ctx, s.rdb, []string{keyLease(stream), keyToken(stream)}, node, token, successor, ms(s.timings.LeaseTTL)).Int64()
	if err != nil {
		return 0, classify(err)
	}
	return uint64(n), nil
}

// SetStandby records the stream's standby node, fenced by the leader's token.
func (s *Ledger) SetStandby(ctx context.Context, stream, node string, token uint64, standby string) error {
	return classify(fencedHSetScript.Run(ctx, s.rdb, []string{keyLease(stream), keyLease(stream)}, node, token, "standby", standby).Err())
}

// Lease reads the stream's current lease.
func (s *Ledger) Lease(ctx context.Context, stream string) (Lease, error) {
	pipe := s.rdb.Pipeline()
	h := pipe.HMGet(ctx, keyLease(stream), "holder", "token", "standby")
	ttl := pipe.PTTL(ctx, keyLease(stream))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Lease{}, classify(err)
	}
	v := h.Val()
	l := Lease{Stream: stream, TTL: ttl.Val()}
	if len(v) == 3 {
		l.Holder, _ = v[0].(string)
		if t, ok := v[1].(string); ok {
			l.Token, _ = strconv.ParseUint(t, 10, 64)
		}
		l.Standby, _ = v[2].(string)
	}
	if l.TTL < 0 {
		l.TTL = 0
	}
	return l, nil
}

// LastToken is the highest token ever issued for the stream.
func (s *Ledger) LastToken(ctx context.Context, stream string) (uint64, error) {
	n, err := s.rdb.Get(ctx, keyToken(stream)).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, classify(err)
}

// SavedState is the successor state of a stream as stored in Redis: an
// opaque blob (the packager's JSON State) plus each rendition's next media
// sequence number, kept beside it so that Redis can refuse a write that
// would make a media sequence go back.
type SavedState struct {
	Blob   []byte
	MSN    map[string]uint64
	Token  uint64 // token of the leader that wrote it
	Holder string
}

// PutState is the fenced write of a stream's successor state: it succeeds
// only while node holds the lease with token, and never lets a rendition's
// media sequence go back.
func (s *Ledger) PutState(ctx context.Context, stream, node string, token uint64, blob []byte, msn map[string]uint64) error {
	args := []any{node, token, blob}
	names := make([]string, 0, len(msn))
	for r := range msn {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		args = append(args, r, msn[r])
	}
	return classify(putStateScript.Run(ctx, s.rdb, []string{keyLease(stream), keyState(stream)}, args...).Err())
}

// State reads a stream's successor state; ok is false when none is stored.
func (s *Ledger) State(ctx context.Context, stream string) (SavedState, bool, error) {
	m, err := s.rdb.HGetAll(ctx, keyState(stream)).Result()
	if errors.Is(err, redis.Nil) || (err == nil && len(m) == 0) {
		return SavedState{}, false, nil
	}
	if err != nil {
		return SavedState{}, false, classify(err)
	}
	st := SavedState{Blob: []byte(m["blob"]), MSN: map[string]uint64{}, Holder: m["holder"]}
	st.Token, _ = strconv.ParseUint(m["token"], 10, 64)
	for k, v := range m {
		if r, ok := strings.CutPrefix(k, "msn:"); ok {
			st.MSN[r], _ = strconv.ParseUint(v, 10, 64)
		}
	}
	return st, true, nil
}

// Deregister removes a node's entry at once. Its last heartbeat goes too:
// a node that left on purpose is never fenced.
func (s *Ledger) Deregister(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redisPipeliner) error {
		p.Del(ctx, keyNode(id), keySeen(id))
		p.SRem(ctx, keyNodes, id)
		return nil
	})
	return classify(err)
}

// Nodes lists the live nodes (those whose heartbeat has not expired),
// sorted by id. Expired ids are pruned from the index.
func (s *Ledger) Nodes(ctx context.Context) ([]NodeInfo, error) {
	ids, err := s.rdb.SMembers(ctx, keyNodes).Result()
	if err != nil {
		return nil, classify(err)
	}
	p := s.rdb.Pipeline()
	cmds := make([]*mapCmd, len(ids))
	for i, id := range ids {
		cmds[i] = p.HGetAll(ctx, keyNode(id))
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return nil, classify(err)
		}
	}
	var out []NodeInfo
	for i, c := range cmds {
		m := c.Val()
		if len(m) == 0 {
			s.rdb.SRem(ctx, keyNodes, ids[i])
			continue
		}
		out = append(out, parseNode(m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func toUint(v any) uint64 {
	n := toInt(v)
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// FenceVerdict is Redis's answer to a request to fence a node.
type FenceVerdict struct {
	Code  int           // fenceRecorded, fenceAlready, ... (scripts.go)
	Token uint64        // the token the node is (or would be) fenced under
	Quiet time.Duration // for fenceFresh: how long the node has been quiet
}

// Fence asks Redis to agree that node, which held the stream's lease with
// token, is dead (fenceScript), and records the fence if so.
func (s *Ledger) Fence(ctx context.Context, stream, node string, token uint64) (FenceVerdict, error) {
	res, err := fenceScript.Run(ctx, s.rdb, []string{keySeen(node), keyLease(stream), keyToken(stream), keyFence(node)},
		node, token, ms(s.fencing.QuietAfter), ms(s.fencing.RecordFor(s.timings))).Slice()
	if err != nil {
		return FenceVerdict{}, classify(err)
	}
	if len(res) < 2 {
		return FenceVerdict{}, fmt.Errorf("cluster: fence answered %v", res)
	}
	v := FenceVerdict{Code: int(toInt(res[0]))}
	if v.Code == fenceFresh {
		v.Quiet = time.Duration(toInt(res[1])) * time.Millisecond
	} else {
		v.Token = toUint(res[1])
	}
	return v, nil
}

// ZoneVerdict is Redis's answer about a zone's accelerator weight.
type ZoneVerdict struct {
	Code int // zoneUp, zoneLost, zoneRestored, zoneDown (scripts.go)
	// For zoneRestored: what was recorded at the loss.
	Previous      int
	Endpoint      string
	EndpointGroup string
}

// Zone asks Redis whether the zone of region was lost, or is healthy again
// after a loss (zoneScript), recording the change if so; ids are the
// zone's nodes the caller knows of, endpoint and group what to weight.
func (s *Ledger) Zone(ctx context.Context, region, zone, endpoint, group string, ids []string) (ZoneVerdict, error) {
	args := []any{region, zone, ms(s.fencing.QuietAfter), ms(s.fencing.ZoneHealthyFor), endpoint, group}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := zoneScript.Run(ctx, s.rdb, []string{keyZoneFence(region, zone), keyNodes}, args...).Slice()
	if err != nil {
		return ZoneVerdict{}, classify(err)
	}
	if len(res) < 1 {
		return ZoneVerdict{}, fmt.Errorf("cluster: zone answered %v", res)
	}
	v := ZoneVerdict{Code: int(toInt(res[0]))}
	if v.Code == zoneRestored && len(res) >= 4 {
		v.Previous = int(toInt(res[1]))
		v.Endpoint, _ = res[2].(string)
		v.EndpointGroup, _ = res[3].(string)
	}
	return v, nil
}

// ZoneLost reports whether the zone's loss is recorded (its weight is, or
// is being set, to 0).
func (s *Ledger) ZoneLost(ctx context.Context, region, zone string) (bool, error) {
	n, err := s.rdb.Exists(ctx, keyZoneFence(region, zone)).Result()
	return n == 1, classify(err)
}

// ZonePrevious records the weight a lost zone had before it was set to 0,
// to be put back at its restore (unless the loss was cleared meanwhile).
func (s *Ledger) ZonePrevious(ctx context.Context, region, zone string, weight int) error {
	return classify(zonePreviousScript.Run(ctx, s.rdb, []string{keyZoneFence(region, zone)}, weight).Err())
}
