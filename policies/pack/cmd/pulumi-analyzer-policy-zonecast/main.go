// Command pulumi-analyzer-policy-zonecast is zonecast's Pulumi policy pack:
// an analyzer plugin that the Pulumi CLI starts either directly
// (`--policy-pack bin/zonecast-policy-pack`) or, for the pack directory
// policies/pack whose PulumiPolicy.yaml says `runtime: zonecast`, under this
// name found on PATH, in the project's plugins or in the plugin cache.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/zonecast/zonecast/policies/pack/analyzer"
)

func main() {
	args, err := analyzer.ParseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "zonecast policy pack:", err)
		os.Exit(2)
	}
	level := slog.LevelWarn
	if os.Getenv("ZONECAST_POLICY_DEBUG") != "" {
		level = slog.LevelDebug
	}
	// Logs go to stderr: stdout carries only the port for the engine.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := analyzer.Env{Config: os.Getenv("PULUMI_CONFIG")}
	if err := analyzer.Serve(ctx, args, env, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "zonecast policy pack:", err)
		os.Exit(1)
	}
}
