package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

var figureLine = regexp.MustCompile(`^([a-z0-9_]+): (\S+)$`)

// figuresOf returns the closing `name: value` block of the output, and
// fails if anything else follows it.
func figuresOf(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	figs := map[string]string{}
	i := len(lines) - 1
	for ; i >= 0 && lines[i] != ""; i-- {
		m := figureLine.FindStringSubmatch(lines[i])
		if m == nil {
			t.Fatalf("output does not end with figures: line %q", lines[i])
		}
		figs[m[1]] = m[2]
	}
	if len(figs) == 0 {
		t.Fatal("no figures at the end of the output")
	}
	return figs
}

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(args, &out, &errb); err != nil {
		t.Fatalf("sim %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// TestContractFigures runs the contract's command line twice: it must end
// with the required figures, and the same seed must give the same figures
// (wall-clock figures aside).
func TestContractFigures(t *testing.T) {
	args := []string{"-streams", "10000", "-regions", "6", "-hours", "24", "-seed", "1", "-plots", ""}
	a := figuresOf(t, runCmd(t, args...))
	b := figuresOf(t, runCmd(t, args...))
	for _, name := range []string{"streams", "regions", "simulated_hours", "wall_seconds", "black_screen_seconds_total",
		"black_screen_seconds_p99_per_stream", "instance_hours"} {
		if _, ok := a[name]; !ok {
			t.Errorf("figure %q missing", name)
		}
	}
	if a["streams"] != "10000" || a["regions"] != "6" || a["simulated_hours"] != "24.000" {
		t.Errorf("scenario figures %q %q %q", a["streams"], a["regions"], a["simulated_hours"])
	}
	for name, v := range a {
		if name == "wall_seconds" || name == "events_per_second" {
			continue
		}
		if b[name] != v {
			t.Errorf("figure %s differs between runs with the same seed: %q vs %q", name, v, b[name])
		}
	}
	if a["black_screen_seconds_total"] == "0.000" || a["instance_hours"] == "0.000" {
		t.Errorf("default scenario with faults shows no black screen (%s) or no instance-hours (%s)", a["black_screen_seconds_total"], a["instance_hours"])
	}
	c := figuresOf(t, runCmd(t, "-streams", "10000", "-regions", "6", "-hours", "24", "-seed", "2", "-plots", "", "-quiet"))
	if c["black_screen_seconds_total"] == a["black_screen_seconds_total"] {
		t.Error("seed 2 gave the same black screen as seed 1")
	}
}

func TestPlotsAreWellFormedSVG(t *testing.T) {
	dir := t.TempDir()
	runCmd(t, "-streams", "600", "-regions", "2", "-hours", "6", "-seed", "3", "-plots", dir, "-quiet")
	for _, name := range []string{"sim-utilisation.svg", "sim-blackscreen.svg", "sim-load.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		elements := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed XML: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elements++
				// Browsers refuse a repeated attribute; encoding/xml does not.
				seen := map[string]bool{}
				for _, a := range se.Attr {
					if seen[a.Name.Local] {
						t.Fatalf("%s: <%s> repeats attribute %s", name, se.Name.Local, a.Name.Local)
					}
					seen[a.Name.Local] = true
				}
			}
		}
		if elements < 20 || !bytes.Contains(b, []byte("<svg")) {
			t.Fatalf("%s: only %d elements", name, elements)
		}
	}
}

func TestStreamsCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "streams.csv")
	out := runCmd(t, "-streams", "800", "-regions", "2", "-hours", "24", "-seed", "4", "-plots", "", "-quiet", "-streams-csv", path)
	figs := figuresOf(t, out)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(len(rows)-1) != figs["streams_simulated"] {
		t.Fatalf("%d rows for %s streams", len(rows)-1, figs["streams_simulated"])
	}
	total := 0.0
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(row[7], 64)
		if err != nil {
			t.Fatal(err)
		}
		total += v
	}
	if want, _ := strconv.ParseFloat(figs["black_screen_seconds_total"], 64); math.Abs(total-want) > 0.01*want+1 {
		t.Fatalf("CSV black screen sums to %.1f, figure says %.1f", total, want)
	}
}

func TestBadFlags(t *testing.T) {
	cases := [][]string{
		{"-regions", "0"},
		{"-regions", "99"},
		{"-streams", "0"},
		{"-hours", "0.1"},
		{"-instance", "m5.large"},
		{"-standby-load", "3"},
		{"stray"},
	}
	for _, args := range cases {
		var out, errb bytes.Buffer
		if err := run(append(args, "-plots", ""), &out, &errb); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestStackRegionsComeFirst(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Pulumi.sa.yaml", "config:\n  aws:region: sa-east-1\n")
	write("Pulumi.dev.yaml", "config:\n  aws:region: us-east-2\n")
	write("Pulumi.global.yaml", "config:\n  aws:region: us-west-2\n")
	write("Pulumi.bad.yaml", "config:\n  aws:region: mars-north-1\n")
	rs, notes, err := pickRegions(3, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Name != "sa-east-1" || rs[1].Name != "eu-west-1" || rs[2].Name != "us-east-1" {
		t.Fatalf("regions %v", rs)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "mars-north-1") {
		t.Fatalf("notes %v", notes)
	}
}

func TestChaosComparison(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.md")
	// As docs/cluster.md might quote them, with markdown around.
	os.WriteFile(good, []byte("| x |\n`CHAOS fault=sigkill-leader stall_s=0.90 media_lost_s=0.20 pdt_gap_s=0.2`\n"+
		"CHAOS fault=sigkill-standby stall_s=0.90 media_lost_s=0.00\nCHAOS fault=sigkill-leader stall_s=0.40 media_lost_s=0.00\n"), 0o644)
	m, err := readChaos(good)
	if err != nil {
		t.Fatal(err)
	}
	if m["local"]["sigkill-leader"].stall != 900*time.Millisecond || len(m["local"]) != 2 {
		t.Fatalf("parsed %v", m)
	}
	var out bytes.Buffer
	if err := run([]string{"-chaos", "-chaos-runs", "50", "-chaos-measured", good}, &out, io.Discard); err != nil {
		t.Fatalf("measurements inside the prediction refused: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "agrees") {
		t.Fatalf("no verdict:\n%s", out.String())
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("CHAOS fault=sigterm-drain stall_s=9.0 media_lost_s=0.1\n"), 0o644)
	out.Reset()
	err = run([]string{"-chaos", "-chaos-runs", "50", "-chaos-measured", bad}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "DIFFERS") {
		t.Fatalf("a 9 s drain stall was not flagged: %v\n%s", err, out.String())
	}
}

func TestParseFaults(t *testing.T) {
	rs, _, err := pickRegions(3, "")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := parseFaults("zone-loss@16h/30m@eu-west-1b, region-loss@20h@us-east-1,node-loss@3h15m", rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || fs[0].Region != 0 || fs[0].Zone != 1 || fs[0].Duration != 30*time.Minute ||
		fs[1].Region != 1 || fs[1].Zone != -1 || fs[2].At != 3*time.Hour+15*time.Minute || fs[2].Region != 0 {
		t.Fatalf("parsed %+v", fs)
	}
	if fs, err := parseFaults("none", rs); err != nil || fs == nil || len(fs) != 0 {
		t.Fatalf("none: %v %v", fs, err)
	}
	for _, bad := range []string{"zone-loss", "meteor@1h", "zone-loss@soon", "zone-loss@1h/long", "zone-loss@1h@mars-north-1a", "a@b@c@d"} {
		if _, err := parseFaults(bad, rs); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A fault after the simulated day is refused by the scenario.
	var out bytes.Buffer
	if err := run([]string{"-hours", "2", "-streams", "100", "-faults", "zone-loss@3h", "-plots", ""}, &out, io.Discard); err == nil {
		t.Error("a fault outside the day was accepted")
	}
}

func TestTimingOverrides(t *testing.T) {
	tm, err := applyTimings(failover.DefaultTimings, []string{"LeaseTTL=4s", "RedisFailover=2500ms", "NLBUnhealthyThreshold=3", "NLBHealthCheckPath=/ready"})
	if err != nil {
		t.Fatal(err)
	}
	if tm.LeaseTTL != 4*time.Second || tm.RedisFailover != 2500*time.Millisecond || tm.NLBUnhealthyThreshold != 3 || tm.NLBHealthCheckPath != "/ready" {
		t.Fatalf("overrides not applied: %+v", tm)
	}
	if failover.DefaultTimings.LeaseTTL != 6*time.Second {
		t.Fatal("overrides leaked into DefaultTimings")
	}
	for _, bad := range []string{"LeaseTTL", "Lease=1s", "LeaseTTL=soon", "NLBHealthyThreshold=two"} {
		if _, err := applyTimings(failover.DefaultTimings, []string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A what-if that breaks the policy's rules is refused with the rule.
	var out, errb bytes.Buffer
	err = run([]string{"-timing", "LeaseTTL=2s", "-plots", "", "-streams", "100"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "lease TTL 2s") {
		t.Fatalf("broken timings: %v", err)
	}
	// A valid one changes the figures: a 4 s lease shortens the stall of a
	// node loss behind a backup encoder where the standby waits for the
	// lease (the -no-forward what-if; with the forward the lease is moot).
	// (Without fencing and the slate, which would bound the stall.)
	a := figuresOf(t, runCmd(t, "-streams", "2000", "-regions", "2", "-plots", "", "-quiet", "-redundant-share", "1", "-no-forward", "-no-fencing", "-faults", "node-loss@17h@eu-west-1a"))
	b := figuresOf(t, runCmd(t, "-streams", "2000", "-regions", "2", "-plots", "", "-quiet", "-redundant-share", "1", "-no-forward", "-no-fencing", "-faults", "node-loss@17h@eu-west-1a",
		"-timing", "LeaseTTL=4s", "-timing", "RedisFailover=2500ms"))
	sa, _ := strconv.ParseFloat(a["fault_node_loss_max_stall_seconds"], 64)
	sb, _ := strconv.ParseFloat(b["fault_node_loss_max_stall_seconds"], 64)
	if !(sb < sa-1.5) {
		t.Fatalf("node-loss stall with a 4 s lease %v, with 6 s %v", sb, sa)
	}
}

// TestShippedStacksInCatalogue: every region stack provision ships must be
// a catalogue region (with coordinates), or the simulator would ignore it.
func TestShippedStacksInCatalogue(t *testing.T) {
	files, _ := filepath.Glob("../../stacks/Pulumi.*.yaml")
	if len(files) == 0 {
		t.Fatal("no stacks/Pulumi.*.yaml found (provision ships them)")
	}
	rs, notes, err := pickRegions(len(failover.Catalogue), "../../stacks")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Fatalf("stack files the simulator cannot use: %v", notes)
	}
	for _, f := range files {
		stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		if stack == "global" {
			continue
		}
		region, err := stackRegion(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := failover.LookupRegion(region); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if stack == "dev" && region != failover.DevRegion {
			t.Errorf("dev stack runs in %s, failover.DevRegion says %s", region, failover.DevRegion)
		}
	}
	if rs[0].Name != "eu-west-1" {
		t.Errorf("first region %s", rs[0].Name)
	}
}

// TestSimulatorAgreesWithChaos compares the simulator's predictions for the
// local set-up with what `make chaos` measured on real processes
// (testdata/chaos-measured.txt, copied from .cache/chaos-cluster.txt): every
// measured fault must be modelled and agree within the tolerance.
func TestSimulatorAgreesWithChaos(t *testing.T) {
	const path = "testdata/chaos-measured.txt"
	meas, err := readChaos(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range chaosProfiles {
		if len(meas[p.name]) < 8 {
			t.Fatalf("only %d measured faults at the %s timings in %s", len(meas[p.name]), p.name, path)
		}
		n += len(meas[p.name])
	}
	var out bytes.Buffer
	if err := run([]string{"-chaos", "-chaos-runs", "300", "-chaos-measured", path}, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "not modelled") {
		t.Fatalf("a measured fault has no model:\n%s", out.String())
	}
	if agree := strings.Count(out.String(), "agrees"); agree != n {
		t.Fatalf("%d of %d measured faults agree:\n%s", agree, n, out.String())
	}
}

// TestForwardToStandby: with every stream fed by a backup encoder, a node
// or zone loss costs a part, because the standby's copy continues and
// viewers reach it; the -no-forward what-if (the node that gets the ingest
// waits for the lease) costs the lease.
func TestForwardToStandby(t *testing.T) {
	args := []string{"-streams", "2000", "-regions", "2", "-plots", "", "-quiet", "-redundant-share", "1",
		"-faults", "node-loss@17h@eu-west-1a,zone-loss@18h/10m@eu-west-1b"}
	f := figuresOf(t, runCmd(t, args...))
	without := figuresOf(t, runCmd(t, append(args, "-no-forward")...))
	for _, name := range []string{"fault_node_loss_max_stall_seconds", "fault_zone_loss_max_stall_seconds"} {
		if v, _ := strconv.ParseFloat(f[name], 64); v > failover.DefaultTimings.PartDuration.Seconds()+1e-9 || f[name] == "" {
			t.Errorf("%s = %s, want at most a part", name, f[name])
		}
		if v, _ := strconv.ParseFloat(without[name], 64); v < failover.DefaultTimings.LeaseTTL.Seconds()-failover.DefaultTimings.LeaseRenew.Seconds() {
			t.Errorf("-no-forward: %s = %s, want the lease's wait", name, without[name])
		}
	}
}

// TestFencingOnTheDefaultDay runs the contract's day as shipped (fast
// fencing; the slate ships off), with the slate as well (-slate) and as
// zonecast was before them (-no-fencing), and checks what each changes.
// black_screen_seconds_total counts media lost (never shown), which the
// slate does not change; stall_seconds_total counts playlists not
// advancing, which it bounds. The goal of a 5× smaller black-screen total
// is not reached in the model: the region loss, which no node survives to
// fence, alone holds more than a fifth of the old total. The test pins
// that reason rather than the goal, and logs both totals and the ratio.
func TestFencingOnTheDefaultDay(t *testing.T) {
	base := []string{"-streams", "10000", "-regions", "6", "-hours", "24", "-seed", "1", "-plots", "", "-quiet"}
	num := func(figs map[string]string, name string) float64 {
		v, err := strconv.ParseFloat(figs[name], 64)
		if err != nil {
			t.Fatalf("figure %s = %q: %v", name, figs[name], err)
		}
		return v
	}
	runs := []struct {
		name, flag     string
		fencing, slate string
	}{
		{"shipped", "", "on", "off"},
		{"with the slate", "-slate", "on", "on"},
		{"health checks only", "-no-fencing", "off", "off"},
	}
	figs := map[string]map[string]string{}
	for _, r := range runs {
		args := base
		if r.flag != "" {
			args = append(append([]string(nil), base...), r.flag)
		}
		f := figuresOf(t, runCmd(t, args...))
		if f["fencing"] != r.fencing || f["slate"] != r.slate {
			t.Fatalf("%s: fencing %s slate %s", r.name, f["fencing"], f["slate"])
		}
		figs[r.name] = f
		t.Logf("%-18s black_screen_seconds_total %s  stall_seconds_total %s  region loss lost %s", r.name,
			f["black_screen_seconds_total"], f["stall_seconds_total"], f["fault_region_loss_lost_seconds_total"])
	}
	alone, with, without := figs["shipped"], figs["with the slate"], figs["health checks only"]
	black, blackBefore := num(with, "black_screen_seconds_total"), num(without, "black_screen_seconds_total")
	t.Logf("black screen (media lost): %.0f s shipped, %.0f s before: %.2f× smaller", black, blackBefore, blackBefore/black)
	// The slate changes no media lost, only the stalls.
	if alone["black_screen_seconds_total"] != with["black_screen_seconds_total"] {
		t.Errorf("the slate changed the media lost: %s with, %s without", with["black_screen_seconds_total"], alone["black_screen_seconds_total"])
	}
	if num(with, "stall_seconds_total") >= num(alone, "stall_seconds_total") {
		t.Errorf("the slate did not shorten the stalls: %s with, %s without", with["stall_seconds_total"], alone["stall_seconds_total"])
	}
	// Fencing: less media lost in zone losses; none saved in the region loss.
	if !(black < blackBefore) || !(num(with, "fault_zone_loss_lost_seconds_total") < num(without, "fault_zone_loss_lost_seconds_total")/3) {
		t.Errorf("fencing: black %v (before %v), zone loss lost %s (before %s)", black, blackBefore,
			with["fault_zone_loss_lost_seconds_total"], without["fault_zone_loss_lost_seconds_total"])
	}
	region := num(with, "fault_region_loss_lost_seconds_total")
	if region != num(without, "fault_region_loss_lost_seconds_total") {
		t.Errorf("fencing changed the region loss (%v, %s before): nobody survives there to fence", region, without["fault_region_loss_lost_seconds_total"])
	}
	if blackBefore/black >= 5 {
		t.Logf("the 5× goal is reached")
	} else if region < blackBefore/5 {
		t.Errorf("the 5× goal is missed (%.2f×) although the region loss (%.0f s) is not what bars it", blackBefore/black, region)
	}
}
