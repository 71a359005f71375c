package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

// handleEncoders implements `edge -encoders [-config FILE] [-transcode.* …]`:
// it probes every candidate encoder with a one-frame test encode, prints
// one line per candidate (name, ok or refused, reason) and exits: 0 when
// one opened, 1 otherwise. Without -encoders it returns.
func handleEncoders(args []string) {
	rest, found := withoutFlag(args, "encoders")
	if !found {
		return
	}
	cfg, err := config.Load(rest, os.LookupEnv, io.Discard)
	var tc config.Transcode
	if err == nil {
		tc = cfg.Transcode
	} else {
		// -encoders needs no streams or listeners: fall back to the
		// transcode defaults when the rest of the configuration is absent.
		tc = defaultTranscode()
		fmt.Fprintf(os.Stderr, "edge: configuration not loaded (%v); probing with the transcode defaults\n", strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " "))
	}
	if err := transcode.PrintEncoders(context.Background(), os.Stdout, tc); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func withoutFlag(args []string, name string) ([]string, bool) {
	var rest []string
	found := false
	for _, a := range args {
		if a == "-"+name || a == "--"+name || a == "-"+name+"=true" || a == "--"+name+"=true" {
			found = true
			continue
		}
		rest = append(rest, a)
	}
	return rest, found
}

func defaultTranscode() config.Transcode {
	var c config.Config
	for _, k := range config.Keys() {
		if strings.HasPrefix(k.Path, "transcode.") && k.Default != "" {
			_ = k.Set(&c, k.Default)
		}
	}
	return c.Transcode
}
