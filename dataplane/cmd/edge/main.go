// Command edge is zonecast's data-plane daemon: SRT in, HLS and LL-HLS out.
//
//	edge -config edge.yaml
//	edge -h        documents every key (YAML, flag and ZONECAST_* variable)
//	edge -version  prints the release version (`make release` stamps it)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/core"
)

// version is the release, stamped by `make release` (-ldflags -X
// main.version=x.y.z); a plain `go build` reports its module version.
var version = ""

func main() {
	if _, found := withoutFlag(os.Args[1:], "version"); found {
		fmt.Println(releaseVersion())
		os.Exit(0)
	}
	handleEncoders(os.Args[1:]) // `edge -encoders` (encoders.go) prints the probe and exits
	cfg, err := config.Load(os.Args[1:], os.LookupEnv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "edge: %v\n", err)
		os.Exit(2)
	}
	log := newLogger(cfg.Log)
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(cfg.Runtime.GCPercent)
	}
	node, err := core.New(cfg, log, releaseVersion())
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := node.Run(ctx); err != nil {
		os.Exit(1)
	}
}

func releaseVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
