// Package encoders measures how fast real SRT callers (srt-live-transmit
// and ffmpeg, both on libsrt) get their media to a node again after the
// listener they were sending to dies or stops answering, with the settings
// that matter (peer-idle timeout, latency, connection timeout): the figures
// of docs/encoders.md. The measurement is a benchmark (`make
// bench-encoders`), not a test: it reports times, it asserts none.
//
// The set-up is what a fenced node looks like to a broadcaster: the caller
// sends through the load balancer stand-in (package loadbalancer) to
// listener A; at the fault A is killed (or frozen) and deregistered at
// once, so that the caller's next packets reach listener B. A caller
// learns nothing from B (a listener ignores data of a connection it does
// not know), so it notices only when its peer-idle timeout expires, then
// reconnects through the stand-in to B.
package encoders
