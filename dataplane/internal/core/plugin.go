package core

// A plugin adds an area's wiring (transcode, cluster) to the node. Each
// area registers its plugin from an init function in its own file of this
// package, e.g. core/transcode.go:
//
//	func init() { RegisterPlugin("transcode", setupTranscode) }
//
// setup runs inside New after the streams, packagers and the source
// subscription exist and before the SRT and HTTP listeners open, so it may
// subscribe consumers (Node.Streams.Get(name).Subscribe), set Node.Admit or
// Node.StreamsAPI, add ready checks and closers. Plugins run in name order.
type plugin struct {
	name  string
	setup func(*Node) error
}

var plugins []plugin

// RegisterPlugin adds a plugin; call it from init.
func RegisterPlugin(name string, setup func(*Node) error) {
	i := len(plugins)
	for i > 0 && plugins[i-1].name > name {
		i--
	}
	plugins = append(plugins[:i], append([]plugin{{name, setup}}, plugins[i:]...)...)
}
