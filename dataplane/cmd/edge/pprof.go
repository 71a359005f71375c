//go:build pprof

package main

import (
	"net/http"
	"net/http/pprof"
	"os"
)

// Built with -tags pprof (make bench-viewers PROFILE=1), the edge serves
// Go's profiler on $ZONECAST_PPROF (host:port) for benchmarks. Released
// binaries never carry it: the profiler is no endpoint to expose.
func init() {
	addr := os.Getenv("ZONECAST_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go http.ListenAndServe(addr, mux)
}
