package events

import (
	"context"
	"errors"
	"time"
)

// Fence is what a live-state event is queued under: the stream's lease
// (a Redis hash with holder and token) must be held by Holder with Token,
// or the event is refused. It makes the leader, and only the leader, the
// node that announces a stream's live state.
type Fence struct {
	Key    string // the lease's Redis key
	Holder string
	Token  uint64
}

// ErrStale: the fence's lease is no longer held with its token.
var ErrStale = errors.New("events: lease not held with this token")

// op is how an event changes the stream's announced live state, which the
// queue keeps beside the events (live or idle, and the leader announced) so
// that the decision and the queuing are one atomic step.
type op string

const (
	// opPlain queues the event as it is.
	opPlain op = "plain"
	// opLead: the node leads now. The stream was idle → stream.live; it
	// was live under another leader → stream.failover; it was live under
	// this node already (a lease taken back after Redis lost it) → nothing.
	opLead op = "lead"
	// opIdle: the leader gives the stream up → stream.idle, unless the
	// stream was announced under another leader since.
	opIdle op = "idle"
	// opSwitch: input_switched, and the successor (the node with the
	// backup feed, which the lease is handed to next) is the announced
	// leader.
	opSwitch op = "switch"
)

// request is one event to queue.
type request struct {
	op        op
	env       Envelope
	fence     *Fence
	reason    string // of a failover
	successor string // of a switch
}

// Entry is a queued event as the deliverer sees it.
type Entry struct {
	QID string // the queue's own id, to acknowledge it
	Env Envelope
}

// queue keeps events until they are delivered.
type queue interface {
	// enqueue queues r's event, deciding its type for the live-state ops;
	// queued is false when the op called for no event.
	enqueue(ctx context.Context, r request) (typ Type, queued bool, err error)
	// session blocks until this node may deliver (in a region, one node
	// at a time); the returned context ends when it may no longer.
	session(ctx context.Context) (context.Context, error)
	// valid reports, on this node's clock, whether the session may still
	// deliver: checked before each attempt, because a deliverer that was
	// frozen wakes with timers due before it notices its lock is gone.
	valid() bool
	// fetch returns up to max entries not yet handed out in this session,
	// oldest first (those a dead deliverer left first), waiting a little
	// when there are none.
	fetch(ctx context.Context, max int) ([]Entry, error)
	// ack removes a delivered (or given up) entry.
	ack(ctx context.Context, qid string) error
	// backlog is the number of queued entries and the time the oldest was
	// queued (zero when none).
	backlog(ctx context.Context) (int64, time.Time, error)
}
