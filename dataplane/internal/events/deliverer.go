package events

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	policy "github.com/zonecast/zonecast/policies/events"
)

// deliverer POSTs queued events to the receiver: one event of a stream at
// a time (the next waits until the previous is delivered or given up), the
// streams side by side, so a receiver that is down for one stream's events
// is no reason to hold another's.
type deliverer struct {
	q       queue
	url     string
	secret  []byte
	client  *http.Client
	policy  policy.Delivery
	log     *slog.Logger
	metrics *Metrics
}

// fetchBatch is how many entries one read of the queue takes.
const fetchBatch = 100

func (d *deliverer) run(ctx context.Context) {
	var failing bool
	for ctx.Err() == nil {
		sctx, err := d.q.session(ctx)
		if err != nil {
			if ctx.Err() == nil {
				if !failing { // once per outage, not once a second
					d.log.Warn("events: cannot begin delivering", "err", err)
				}
				failing = true
				sleep(ctx, d.policy.FirstRetry)
			}
			continue
		}
		failing = false
		d.log.Info("events: delivering")
		d.deliver(sctx)
		if ctx.Err() == nil {
			d.log.Info("events: no longer delivering (another node of the region does)")
		}
	}
}

// deliver runs one session: it ends when ctx does, leaving what is not
// delivered in the queue for the next session (here or on another node).
func (d *deliverer) deliver(ctx context.Context) {
	slots := make(chan struct{}, d.policy.MaxInFlight)
	var mu sync.Mutex
	lanes := map[string]*[]Entry{}
	var wg sync.WaitGroup
	var failing bool
	for ctx.Err() == nil {
		es, err := d.q.fetch(ctx, fetchBatch)
		if err != nil {
			if ctx.Err() == nil {
				if !failing { // once per outage, not once a second
					d.log.Warn("events: cannot read the queue", "err", err)
				}
				failing = true
				sleep(ctx, d.policy.FirstRetry)
			}
			continue
		}
		failing = false
		for _, e := range es {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			mu.Lock()
			if lane, ok := lanes[e.Env.Stream]; ok {
				*lane = append(*lane, e)
				mu.Unlock()
				continue
			}
			lane := &[]Entry{e}
			lanes[e.Env.Stream] = lane
			mu.Unlock()
			wg.Add(1)
			go func(stream string) {
				defer wg.Done()
				for {
					mu.Lock()
					if len(*lane) == 0 || ctx.Err() != nil {
						delete(lanes, stream)
						n := len(*lane)
						mu.Unlock()
						for range n {
							<-slots
						}
						return
					}
					next := (*lane)[0]
					*lane = (*lane)[1:]
					mu.Unlock()
					d.send(ctx, next)
					<-slots
				}
			}(e.Env.Stream)
		}
	}
	wg.Wait()
}

// send delivers one event, trying again with back-off until the receiver
// takes it, the policy's horizon passes, or the session ends (the event
// then stays queued).
func (d *deliverer) send(ctx context.Context, e Entry) {
	body, err := e.Env.Body()
	if err != nil {
		d.log.Error("events: cannot encode; dropped", "id", e.Env.ID, "type", e.Env.Type, "err", err)
		d.metrics.failed.WithLabelValues(string(e.Env.Type)).Inc()
		d.ack(e)
		return
	}
	for attempt := 1; ; attempt++ {
		if !d.q.valid() {
			return // another deliverer may have it now; it stays queued
		}
		err := d.post(ctx, body)
		if err == nil {
			d.metrics.delivered.WithLabelValues(string(e.Env.Type)).Inc()
			d.ack(e)
			return
		}
		if ctx.Err() != nil {
			return
		}
		d.metrics.retries.Inc()
		if time.Since(e.Env.Time) > d.policy.Horizon {
			d.log.Error("events: given up after the retry horizon", "id", e.Env.ID, "type", e.Env.Type,
				"stream", e.Env.Stream, "attempts", attempt, "err", err)
			d.metrics.failed.WithLabelValues(string(e.Env.Type)).Inc()
			d.ack(e)
			return
		}
		wait := d.backoff(attempt)
		if attempt == 1 || wait == d.policy.MaxBackoff {
			d.log.Warn("events: delivery failed, will retry", "id", e.Env.ID, "type", e.Env.Type,
				"stream", e.Env.Stream, "attempt", attempt, "retry_in", wait, "err", err)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// backoff is the wait after the attempt-th failure: doubling from
// FirstRetry up to MaxBackoff, less up to a fifth at random so that the
// nodes' retries after a receiver's outage do not arrive in step.
func (d *deliverer) backoff(attempt int) time.Duration {
	w := d.policy.FirstRetry
	for i := 1; i < attempt && w < d.policy.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.policy.MaxBackoff)
	return w - time.Duration(rand.Int64N(int64(w/5)+1))
}

func (d *deliverer) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.policy.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "zonecast-events/1")
	req.Header.Set(SignatureHeader, Sign(d.secret, time.Now(), body))
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// ack removes a delivered or given-up event even when the session just
// ended: another deliverer that claimed it meanwhile then skips a
// duplicate.
func (d *deliverer) ack(e Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), d.policy.Timeout)
	defer cancel()
	if err := d.q.ack(ctx, e.QID); err != nil {
		d.log.Warn("events: cannot acknowledge; it may be delivered again", "id", e.Env.ID, "err", err)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
