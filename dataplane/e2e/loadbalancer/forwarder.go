package loadbalancer

import (
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"
	"time"
)

// UDPIdleTimeout is how long an NLB (and Global Accelerator) keeps a UDP
// flow without packets before the client's next packet is a new flow:
// AWS's fixed figure for UDP, not a setting of ours.
const UDPIdleTimeout = 120 * time.Second

// destination is where a new flow goes: the name flows are ended by (a
// target's instance id, an endpoint's id) and its UDP address.
type destination struct {
	name, addr string
}

// forwarder is a UDP listener that keeps flows: a client's packets (one
// 5-tuple) all go to the destination chosen at the flow's first packet,
// through a socket of the flow's own, and what the destination answers
// goes back to the client from the listener's address. A flow lasts until
// it is ended (endFlows) or idle for UDPIdleTimeout; the client's next
// packet then starts a new flow. Neither NLB nor nginx's stream module can
// be driven by the ELB API in-process, hence this small forwarder.
type forwarder struct {
	conn *net.UDPConn
	pick func(client, listener netip.AddrPort) (destination, bool)

	mu    sync.Mutex
	flows map[netip.AddrPort]*flow
	done  chan struct{}
	wg    sync.WaitGroup
}

// flow is one client's 5-tuple and the socket it is forwarded through.
type flow struct {
	client netip.AddrPort
	to     destination
	up     *net.UDPConn
	last   time.Time // last packet from the client (guarded by forwarder.mu)
}

// listenForwarder listens on addr (UDP, host:port; port 0: any free one).
// pick chooses a new flow's destination from its client and listener
// addresses.
func listenForwarder(addr string, pick func(client, listener netip.AddrPort) (destination, bool)) (*forwarder, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	f := &forwarder{conn: conn, pick: pick, flows: map[netip.AddrPort]*flow{}, done: make(chan struct{})}
	f.wg.Add(2)
	go f.serve()
	go f.expire()
	return f, nil
}

// Addr is the listener's address.
func (f *forwarder) Addr() string { return f.conn.LocalAddr().String() }

// hash5 is the flow hash of a UDP 5-tuple (client, listener, protocol).
func hash5(client, listener netip.AddrPort) uint64 {
	h := fnv.New64a()
	b, _ := client.MarshalBinary()
	h.Write(b)
	b, _ = listener.MarshalBinary()
	h.Write(b)
	h.Write([]byte{17}) // IPPROTO_UDP
	return h.Sum64()
}

// hash2 is the source-IP affinity hash (client and listener addresses,
// no ports): every flow of a client goes the same way.
func hash2(client, listener netip.Addr) uint64 {
	h := fnv.New64a()
	b, _ := client.MarshalBinary()
	h.Write(b)
	b, _ = listener.MarshalBinary()
	h.Write(b)
	return h.Sum64()
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	local := f.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, 65536)
	for {
		n, client, err := f.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		fl := f.flowFor(client, local)
		if fl == nil {
			continue // nowhere to send it: dropped, as an NLB with no target drops
		}
		// A dead destination's ICMP errors are not passed on: an NLB is
		// silent towards the client when its target is gone.
		_, _ = fl.up.Write(buf[:n])
	}
}

// flowFor is the client's flow, started if it has none.
func (f *forwarder) flowFor(client, local netip.AddrPort) *flow {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl := f.flows[client]; fl != nil {
		fl.last = time.Now()
		return fl
	}
	to, ok := f.pick(client, local)
	if !ok {
		return nil
	}
	ua, err := net.ResolveUDPAddr("udp", to.addr)
	if err != nil {
		return nil
	}
	up, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil
	}
	fl := &flow{client: client, to: to, up: up, last: time.Now()}
	f.flows[client] = fl
	f.wg.Add(1)
	go f.replies(fl)
	return fl
}

// replies sends what the destination answers back to the client through
// the listener, until the flow's socket is closed.
func (f *forwarder) replies(fl *flow) {
	defer f.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := fl.up.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNREFUSED from a dead destination: swallowed
		}
		_, _ = f.conn.WriteToUDPAddrPort(buf[:n], fl.client)
	}
}

// endFlows ends every flow whose destination matches: the client's next
// packet starts a new flow.
func (f *forwarder) endFlows(match func(name string) bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, fl := range f.flows {
		if match(fl.to.name) {
			fl.up.Close()
			delete(f.flows, k)
			n++
		}
	}
	return n
}

// flowsTo counts the flows to the named destination.
func (f *forwarder) flowsTo(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, fl := range f.flows {
		if fl.to.name == name {
			n++
		}
	}
	return n
}

func (f *forwarder) expire() {
	defer f.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-f.done:
			return
		case now := <-tick.C:
			f.mu.Lock()
			for k, fl := range f.flows {
				if now.Sub(fl.last) > UDPIdleTimeout {
					fl.up.Close()
					delete(f.flows, k)
				}
			}
			f.mu.Unlock()
		}
	}
}

// Close stops the listener and ends every flow.
func (f *forwarder) Close() {
	close(f.done)
	f.conn.Close()
	f.endFlows(func(string) bool { return true })
	f.wg.Wait()
}
