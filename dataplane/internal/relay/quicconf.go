package relay

import (
	"time"

	"github.com/quic-go/quic-go"

	"github.com/zonecast/zonecast/policies/failover"
)

// quicConfig makes a dead peer visible within the relay timeout: the idle
// timeout is the relay timeout and keep-alives go out four times as often.
func quicConfig(t failover.Timings) *quic.Config {
	return &quic.Config{
		MaxIdleTimeout:        t.RelayTimeout,
		KeepAlivePeriod:       t.RelayTimeout / 4,
		HandshakeIdleTimeout:  t.RelayTimeout,
		MaxIncomingStreams:    4096,
		MaxIncomingUniStreams: -1,
	}
}

// heartbeatEvery is how often an idle sender or the standby's status speaks.
func heartbeatEvery(t failover.Timings) time.Duration { return t.RelayTimeout / 4 }
