package main

import (
	"encoding/csv"
	"fmt"
	"os"

	"github.com/zonecast/zonecast/policies/failover/sim"
)

// writeStreamsCSV writes one row per stream: when it ran, where, its
// audience, and its stall and black screen in seconds.
func writeStreamsCSV(path string, r *sim.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"stream", "start_s", "end_s", "region", "viewers", "backup_encoder", "stall_s", "black_screen_s"})
	for i, s := range r.Streams {
		_ = w.Write([]string{fmt.Sprint(i), fmt.Sprintf("%.1f", s.Start.Seconds()), fmt.Sprintf("%.1f", s.End.Seconds()), s.Region,
			fmt.Sprint(s.Viewers), fmt.Sprint(s.Redundant), fmt.Sprintf("%.3f", s.Stall.Seconds()), fmt.Sprintf("%.3f", s.Black.Seconds())})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
