// Package stream holds the configured streams, the state of their publisher
// (live or idle, address, incoming bitrate, transport statistics) and the
// fan-out of their MPEG-TS to sinks.
//
// A publisher (the SRT ingest, or the QUIC relay on a standby) calls
// Stream.Publish and then Publisher.Write with TS chunks. Every sink
// (the source packager rendition, the transcoder, the relay to the standby)
// subscribes with Stream.Subscribe and receives the chunks on its own
// goroutine through a bounded queue: a slow sink loses data (and is told
// so by a Discontinuity), it never blocks the publisher, other sinks or
// other streams.
package stream
