package stream

// Sink takes MPEG-TS and is told when its input was cut: the one word for
// that role across the data plane (transcode.Sink, relay.Sink alike).
// packager.Rendition satisfies it.
//
// Both methods are called from one goroutine per subscription, never
// concurrently. The chunks are shared between sinks: read them, never
// modify or keep them past the call unless copied.
type Sink interface {
	// WriteTS receives TS bytes in any chunking (usually one SRT payload of
	// 7×188 bytes). An error is logged and counted; the subscription goes on.
	WriteTS(p []byte) error
	// Discontinuity tells that the input was cut: the publisher went away
	// or was replaced, or this sink fell behind and lost chunks.
	Discontinuity()
}
