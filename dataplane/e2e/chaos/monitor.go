package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Monitor polls GET /api/v1/streams on every node and keeps each report of
// a node leading the stream, to prove that leadership terms never overlap.
type Monitor struct {
	nodes func() []*Node

	mu      sync.Mutex
	reports []leadReport
	roles   map[string]string // node → last role seen
	leaders map[string]bool   // nodes ever seen leading
}

type leadReport struct {
	node  string
	token uint64
	since time.Time // when the node started this term (its clock)
	asked time.Time // when we asked (before it answered)
}

type apiRow struct {
	Name         string     `json:"name"`
	Leader       string     `json:"leader"`
	Standby      string     `json:"standby"`
	Token        uint64     `json:"token"`
	State        string     `json:"state"`
	Role         string     `json:"role"`
	LeadingToken uint64     `json:"leading_token"`
	LeadingSince *time.Time `json:"leading_since"`
}

// NewMonitor prepares a monitor over the nodes.
func NewMonitor(nodes func() []*Node) *Monitor {
	return &Monitor{nodes: nodes, roles: map[string]string{}, leaders: map[string]bool{}}
}

// Run polls every 100 ms until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	client := &http.Client{Timeout: time.Second}
	for ctx.Err() == nil {
		for _, n := range m.nodes() {
			if !n.Alive() {
				continue
			}
			asked := time.Now()
			rows, err := streams(ctx, client, n)
			if err != nil {
				continue
			}
			m.mu.Lock()
			for _, r := range rows {
				if r.Name != StreamName {
					continue
				}
				m.roles[n.ID] = r.Role
				if r.Role == "leader" && r.LeadingSince != nil {
					m.leaders[n.ID] = true
					m.reports = append(m.reports, leadReport{node: n.ID, token: r.LeadingToken, since: *r.LeadingSince, asked: asked})
				}
			}
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func streams(ctx context.Context, c *http.Client, n *Node) ([]apiRow, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTP+"/api/v1/streams", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var rows []apiRow
	return rows, json.NewDecoder(resp.Body).Decode(&rows)
}

// Role is the last role a node reported.
func (m *Monitor) Role(node string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roles[node]
}

// Overlaps lists every pair of leadership terms that overlapped: a node
// still reported leading (with an older token) after another node's newer
// term had begun.
func (m *Monitor) Overlaps() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, a := range m.reports {
		for _, b := range m.reports {
			if a.node == b.node || a.token >= b.token {
				continue
			}
			// a is the older term; it must not be reported after b began.
			if a.asked.After(b.since) {
				out = append(out, fmt.Sprintf("%s (token %d) still led at %s, after %s (token %d) began at %s",
					a.node, a.token, a.asked.Format("15:04:05.000"), b.node, b.token, b.since.Format("15:04:05.000")))
			}
		}
	}
	return out
}

// Terms is the number of distinct leadership terms seen.
func (m *Monitor) Terms() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[uint64]bool{}
	for _, r := range m.reports {
		seen[r.token] = true
	}
	return len(seen)
}
