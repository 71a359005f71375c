package stream

// Consumer receives a stream's MPEG-TS. packager.Rendition satisfies it.
//
// Both methods are called from one goroutine per subscription, never
// concurrently. The chunks are shared between consumers: read them, never
// modify or keep them past the call unless copied.
type Consumer interface {
	// WriteTS receives TS bytes in any chunking (usually one SRT payload of
	// 7×188 bytes). An error is logged and counted; the subscription goes on.
	WriteTS(p []byte) error
	// Discontinuity tells that the input was cut: the publisher went away
	// or was replaced, or this consumer fell behind and lost chunks.
	Discontinuity()
}
