package transcode

// Sink receives one rendition's MPEG-TS; packager.Rendition satisfies it.
// WriteTS must not keep p past the call (the transcoder reuses its buffer).
type Sink interface {
	WriteTS(p []byte) error
	Discontinuity()
}

// Outputs gives the transcoder the packager renditions of its stream,
// creating them on first use (packager.Muxer.Rendition, adapted).
type Outputs interface {
	Rendition(name string) Sink
}

// OutputsFunc adapts a function to Outputs.
type OutputsFunc func(name string) Sink

// Rendition calls f.
func (f OutputsFunc) Rendition(name string) Sink { return f(name) }

// slots is the node's ladder capacity as a transcoder uses it.
type slots interface {
	TryAcquire() bool
	Release()
}
