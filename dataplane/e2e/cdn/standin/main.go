// Command standin renders the CDN stand-in's VCL (-vcl FILE: write it and
// exit; `make cdn-vcl`) or runs the stand-in in front of two origins until
// interrupted (`make run` puts it in front of the local twin zones).
//
//	go run ./dataplane/e2e/cdn/standin -primary 127.0.0.1:8080 -secondary 127.0.0.1:8082 -listen 127.0.0.1:8090
//
// The origin secret comes from ZONECAST_CDN_SECRET (never a flag: flags show
// in the process list).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/zonecast/zonecast/dataplane/e2e/cdn"
)

func main() {
	var opts cdn.Options
	flag.StringVar(&opts.Primary, "primary", "127.0.0.1:8080", "the origin group's primary origin (host:port, plain HTTP)")
	flag.StringVar(&opts.Secondary, "secondary", "127.0.0.1:8082", "the origin group's secondary origin")
	flag.StringVar(&opts.Listen, "listen", "127.0.0.1:8090", "the viewers' address")
	flag.StringVar(&opts.Dir, "dir", "", "the instance's directory (default: a temporary one)")
	vclOut := flag.String("vcl", "", "write the VCL to this file and exit")
	flag.Parse()
	opts.Secret = os.Getenv("ZONECAST_CDN_SECRET")

	if *vclOut != "" {
		vcl, params, err := cdn.Render(opts)
		if err != nil {
			fail(err)
		}
		if err := os.MkdirAll(filepath.Dir(*vclOut), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(*vclOut, []byte(vcl), 0o600); err != nil {
			fail(err)
		}
		fmt.Printf("%s (varnishd parameters: %v)\n", *vclOut, params)
		return
	}
	s, err := cdn.Start(opts)
	if err != nil {
		fail(err)
	}
	fmt.Printf("CDN stand-in on %s → %s, then %s\n", s.URL(), opts.Primary, opts.Secondary)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	s.Stop()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "standin:", err)
	os.Exit(1)
}
