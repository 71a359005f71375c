package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/failover/sim"
)

// measured is one `make chaos` figure: the line the chaos test writes,
// "CHAOS timings=<profile> fault=<name> stall_s=<s> media_lost_s=<s> ...".
type measured struct {
	stall, lost time.Duration
}

// chaosProfile is one set of timings `make chaos` runs at (the chaos
// package's profiles): its name in the CHAOS lines and its timings.
type chaosProfile struct {
	name    string
	timings failover.Timings
}

// chaosProfiles: the local set-up's, and what provision ships.
var chaosProfiles = []chaosProfile{
	{"local", failover.LocalTimings},
	{"shipped", failover.DefaultTimings},
}

// readChaos collects CHAOS lines from a file (CHAOS_OUT or docs/cluster.md)
// by profile ("timings=", local when absent, as in lines written before
// there were two) and fault; for a fault measured several times it keeps
// the worst.
func readChaos(path string) (map[string]map[string]measured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]measured{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "CHAOS ")
		if i < 0 || !strings.Contains(line[i:], " fault=") {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Fields(line[i+len("CHAOS "):]) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = strings.Trim(v, "`|")
			}
		}
		stall, err1 := strconv.ParseFloat(fields["stall_s"], 64)
		lost, err2 := strconv.ParseFloat(fields["media_lost_s"], 64)
		if fields["fault"] == "" || err1 != nil || err2 != nil {
			continue
		}
		profile := fields["timings"]
		if profile == "" {
			profile = "local"
		}
		if out[profile] == nil {
			out[profile] = map[string]measured{}
		}
		m := out[profile][fields["fault"]]
		m.stall = max(m.stall, time.Duration(stall*float64(time.Second)))
		m.lost = max(m.lost, time.Duration(lost*float64(time.Second)))
		out[profile][fields["fault"]] = m
	}
	return out, sc.Err()
}

// Tolerance of the comparison: real processes add scheduling, ffmpeg and
// HTTP polling delays the model leaves out, so a measurement agrees when
// it lies within the predicted range widened by this much on each side.
const (
	toleranceAbs = time.Second
	toleranceRel = 0.25
)

func within(m, lo, hi time.Duration) bool {
	slack := max(toleranceAbs, time.Duration(float64(hi)*toleranceRel))
	return m >= lo-slack && m <= hi+slack
}

// runChaos prints, for each profile of the chaos suite, the predictions
// and, when a measurement file is given, the comparison. It returns an
// error when a measured figure falls outside the tolerance.
func runChaos(o options, stdout io.Writer) error {
	var meas map[string]map[string]measured
	if o.chaosMeasured != "" {
		var err error
		if meas, err = readChaos(o.chaosMeasured); err != nil {
			return err
		}
	}
	var bad []string
	for _, p := range chaosProfiles {
		t, err := applyTimings(p.timings, o.timings)
		if err != nil {
			return err
		}
		b, err := chaosTable(p.name, t, o, meas[p.name], stdout)
		if err != nil {
			return err
		}
		bad = append(bad, b...)
	}
	if len(bad) > 0 {
		return fmt.Errorf("measured chaos figures outside the predicted range (±max(%v, %.0f %%)): %v", toleranceAbs, toleranceRel*100, bad)
	}
	return nil
}

// chaosTable prints one profile's predictions beside its measurements and
// returns the faults that differ.
func chaosTable(profile string, t failover.Timings, o options, meas map[string]measured, stdout io.Writer) ([]string, error) {
	preds, err := sim.PredictChaos(t, failover.DirectRouting, o.chaosRuns, o.seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Predicted chaos figures, %s timings (segment %v)%s, direct routing, %d runs per fault, seed %d\n",
		profile, t.SegmentDuration, overridesNote(o.timings), o.chaosRuns, o.seed)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\tstall min s\tmedian s\tmax s\tlost max s\tworst-case stall s\tmeasured stall s\tmeasured lost s\tverdict\t")
	var bad []string
	for _, p := range preds {
		mStall, mLost, verdict := "-", "-", "not measured"
		if m, ok := meas[p.Case.Name]; ok {
			mStall, mLost = secs(m.stall), secs(m.lost)
			verdict = "agrees"
			if !within(m.stall, p.StallMin, p.StallMax) || !within(m.lost, p.LostMin, p.LostMax) {
				verdict = "DIFFERS"
				bad = append(bad, profile+"/"+p.Case.Name)
			}
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t\n", p.Case.Name, p.StallMin.Seconds(), p.StallMedian.Seconds(),
			p.StallMax.Seconds(), p.LostMax.Seconds(), p.WorstStall.Seconds(), mStall, mLost, verdict)
	}
	names := make([]string, 0, len(meas))
	for name := range meas {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := meas[name]
		known := false
		for _, p := range preds {
			known = known || p.Case.Name == name
		}
		if !known {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\t%s\tnot modelled\t\n", name, secs(m.stall), secs(m.lost))
		}
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	for _, p := range preds {
		fmt.Fprintf(stdout, "predicted_%s_%s_stall_seconds_max: %.3f\n", profile, strings.ReplaceAll(p.Case.Name, "-", "_"), p.StallMax.Seconds())
	}
	fmt.Fprintln(stdout)
	return bad, nil
}

func overridesNote(o timingOverrides) string {
	if len(o) == 0 {
		return ""
	}
	return " with " + o.String()
}
