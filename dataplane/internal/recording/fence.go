package recording

// Fence says whether this node may still write a stream's recording: token
// is the lease token the node held when the segment was written, and an
// upload is made only while it holds. The cluster's lease provides it; a
// deposed leader's uploads are refused, so that two nodes never interleave
// their playlists and indexes in the bucket.
type Fence interface {
	Valid(stream string, token uint64) bool
}

// FenceFunc adapts a function to Fence.
type FenceFunc func(stream string, token uint64) bool

// Valid calls f.
func (f FenceFunc) Valid(stream string, token uint64) bool { return f(stream, token) }

// Unfenced is the fence of a single edge, which no other node can depose.
var Unfenced Fence = FenceFunc(func(string, uint64) bool { return true })
