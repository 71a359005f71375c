package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// result is one measured viewer count.
type result struct {
	n                  int
	originCPU          float64 // % of one core, all origins
	originRSS          int64   // peak, all origins
	originReqs         float64 // per second, all origins
	cacheCPU           float64 // the stand-in's, % of one core
	viewerReqs         float64 // per second, all viewers
	mbps               float64 // what the viewers received, Mb/s
	p50, p99, max      time.Duration
	samples            int
	behind, errs, miss int
	maxLag             time.Duration
	viewersCPU         float64
	load               string
}

func header(w io.Writer, cache bool) {
	c := ""
	if cache {
		c = " stand-in CPU |"
	}
	per := " above idle, per 1,000 viewers | per 1,000 origin requests/s |"
	if cache {
		// The origins' share is a constant there: the stand-in's is
		// what grows with the viewers.
		per = " stand-in CPU per 1,000 viewers |"
	}
	fmt.Fprintf(w, "| viewers | origin CPU (%% of a core) |%s origin RSS |%s origin requests/s | viewers' requests/s | received Mb/s | extra wait p50 | p99 | max | reloads measured | behind live | errors / misses | viewers' CPU | load (1 min) |\n", per, c)
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", strings.Count(per+c, "|")+14))
}

func row(w io.Writer, r result, idle *result, cache bool) {
	c := ""
	if cache {
		c = fmt.Sprintf(" %.1f%% |", r.cacheCPU)
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	if idle == nil {
		blank := " | |"
		if cache {
			blank = " |"
		}
		fmt.Fprintf(w, "| 0 (stream only) | %.1f%% |%s %s |%s | | | | | | | | | | %s |\n", r.originCPU, blank, mib(r.originRSS), c, r.load)
		return
	}
	// Above the stream-only baseline measured in the same run; a single
	// viewer's share is lost in the noise, so none is given below 50.
	per := " | |"
	switch {
	case r.n < 50 && cache:
		per = " |"
	case r.n < 50:
	case cache:
		per = fmt.Sprintf(" %.1f%% |", r.cacheCPU/float64(r.n)*1000)
	default:
		per = fmt.Sprintf(" %.1f%% | %.1f%% |", (r.originCPU-idle.originCPU)/float64(r.n)*1000, (r.originCPU-idle.originCPU)/max(r.originReqs, 1)*1000)
	}
	fmt.Fprintf(w, "| %d | %.1f%% |%s %s |%s %.0f | %.0f | %.0f | %s | %s | %s | %d | %d (lag max %s) | %d / %d | %.1f%% | %s |\n",
		r.n, r.originCPU, per, mib(r.originRSS), c, r.originReqs, r.viewerReqs, r.mbps, msf(r.p50), msf(r.p99), msf(r.max), r.samples, r.behind, msf(r.maxLag), r.errs, r.miss, r.viewersCPU, r.load)
}

func msf(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
