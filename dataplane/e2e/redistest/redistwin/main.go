// Command redistwin starts the local Redis set of `make run`: a
// primary, a replica and three sentinels (real redis-server and
// redis-sentinel processes) on free loopback ports, writes the sentinel
// addresses to -addrs, and stops everything on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
)

func main() {
	dir := flag.String("dir", "", "directory for the processes' files (required)")
	addrs := flag.String("addrs", "", "file receiving the sentinel addresses, one per line")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "redistwin: -dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "redistwin:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := redistest.Start(ctx, redistest.Options{Dir: *dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistwin:", err)
		os.Exit(1)
	}
	defer c.Close()
	list := strings.Join(c.SentinelAddrs(), "\n") + "\n"
	if *addrs != "" {
		if err := os.WriteFile(*addrs, []byte(list), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "redistwin:", err)
			return
		}
	}
	fmt.Printf("redistwin: primary %s, replica %s, sentinels %s (master %q)\n", c.Primary.Addr(), c.Replica.Addr(),
		strings.Join(c.SentinelAddrs(), " "), c.Master)
	<-ctx.Done()
}
