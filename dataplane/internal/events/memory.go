package events

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Memory is the queue of a single edge without a cluster: in memory, so
// what is pending when the process ends is lost (there is no twin to
// deliver it, and a restarted edge announces its streams afresh).
type Memory struct {
	max int

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when an entry is added
	next    int64
	fresh   []Entry // not yet handed out
	pending map[string]Entry
	streams map[string]*memoryState
}

type memoryState struct {
	seq    int64
	live   bool
	leader string
}

// ErrFull: the in-memory queue holds its maximum; the event is dropped.
var ErrFull = errors.New("events: queue full")

// NewMemory returns a queue holding at most max events.
func NewMemory(max int) *Memory {
	return &Memory{max: max, wake: make(chan struct{}), pending: map[string]Entry{}, streams: map[string]*memoryState{}}
}

func (m *Memory) enqueue(_ context.Context, r request) (Type, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.fresh)+len(m.pending) >= m.max {
		return r.env.Type, false, ErrFull
	}
	st := m.streams[r.env.Stream]
	if st == nil {
		st = &memoryState{}
		m.streams[r.env.Stream] = st
	}
	env := r.env
	switch r.op {
	case opLead:
		switch {
		case st.live && st.leader == env.Node:
			return "", false, nil
		case st.live:
			env.Type = StreamFailover
			env.Data = withFailover(env.Data, st.leader, r.reason)
		default:
			env.Type = StreamLive
		}
		st.live, st.leader = true, env.Node
	case opIdle:
		if !st.live || st.leader != env.Node {
			return "", false, nil
		}
		st.live = false
		env.Type = StreamIdle
	case opSwitch:
		env.Type = StreamInputSwitched
		st.live, st.leader = true, r.successor
	}
	st.seq++
	env.Seq = st.seq
	m.next++
	m.fresh = append(m.fresh, Entry{QID: strconv.FormatInt(m.next, 10), Env: env})
	close(m.wake)
	m.wake = make(chan struct{})
	return env.Type, true, nil
}

func withFailover(data map[string]any, previous, reason string) map[string]any {
	out := make(map[string]any, len(data)+2)
	for k, v := range data {
		out[k] = v
	}
	out["previous_leader"] = previous
	out["reason"] = reason
	return out
}

// session: the only deliverer is this process. What was handed out in an
// earlier session and not acknowledged is handed out again.
func (m *Memory) session(ctx context.Context) (context.Context, error) {
	m.mu.Lock()
	if len(m.pending) > 0 {
		back := make([]Entry, 0, len(m.pending))
		for _, e := range m.pending {
			back = append(back, e)
		}
		sortEntries(back)
		m.fresh = append(back, m.fresh...)
		m.pending = map[string]Entry{}
	}
	m.mu.Unlock()
	return ctx, nil
}

func (m *Memory) valid() bool { return true }

func (m *Memory) fetch(ctx context.Context, max int) ([]Entry, error) {
	m.mu.Lock()
	if len(m.fresh) == 0 {
		wake := m.wake
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-time.After(time.Second):
		}
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	n := min(max, len(m.fresh))
	out := append([]Entry(nil), m.fresh[:n]...)
	m.fresh = m.fresh[n:]
	for _, e := range out {
		m.pending[e.QID] = e
	}
	return out, nil
}

func (m *Memory) ack(_ context.Context, qid string) error {
	m.mu.Lock()
	delete(m.pending, qid)
	m.mu.Unlock()
	return nil
}

func (m *Memory) backlog(context.Context) (int64, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var oldest time.Time
	for _, e := range m.pending {
		if oldest.IsZero() || e.Env.Time.Before(oldest) {
			oldest = e.Env.Time
		}
	}
	if len(m.fresh) > 0 && (oldest.IsZero() || m.fresh[0].Env.Time.Before(oldest)) {
		oldest = m.fresh[0].Env.Time
	}
	return int64(len(m.fresh) + len(m.pending)), oldest, nil
}

// sortEntries orders entries of this queue by their numeric ids (queue order).
func sortEntries(es []Entry) {
	num := func(e Entry) int64 { n, _ := strconv.ParseInt(e.QID, 10, 64); return n }
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(num(a), num(b)) })
}
