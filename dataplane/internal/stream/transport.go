package stream

// TransportStats are a publisher's transport counters (SRT: from the
// socket's statistics). Totals since the publisher connected.
type TransportStats struct {
	PacketsReceived      uint64 `json:"packets_received"`
	PacketsLost          uint64 `json:"packets_lost"`          // detected missing at the receiver
	PacketsRetransmitted uint64 `json:"packets_retransmitted"` // retransmitted packets received
	PacketsDropped       uint64 `json:"packets_dropped"`       // too late or undecryptable, never delivered
	BytesReceived        uint64 `json:"bytes_received"`
}

func (t *TransportStats) add(o TransportStats) {
	t.PacketsReceived += o.PacketsReceived
	t.PacketsLost += o.PacketsLost
	t.PacketsRetransmitted += o.PacketsRetransmitted
	t.PacketsDropped += o.PacketsDropped
	t.BytesReceived += o.BytesReceived
}
