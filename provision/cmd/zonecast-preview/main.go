// Command zonecast-preview shows what `pulumi up` would create for a stack,
// with no AWS account: one line per resource, "<type token> <name>", through
// the real Pulumi engine (see provision/preview). It exits non-zero, showing
// the violations, when a policy pack refuses the stack.
//
//	zonecast-preview -stack eu-west-1 [-policy-pack policies/pack] [-config key=value] [-v]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/zonecast/zonecast/provision/preview"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	// An own flag set: imported packages (glog) register -v on the global one.
	fs := flag.NewFlagSet("zonecast-preview", flag.ExitOnError)
	var (
		opts    preview.Options
		packs   multiFlag
		configs multiFlag
		sets    multiFlag
		verbose = fs.Bool("v", false, "also print each resource's key inputs and the engine's progress")
		timeout = fs.Duration("timeout", 10*time.Minute, "give up after this long")
	)
	fs.StringVar(&opts.Stack, "stack", "", "stack to preview: global or a region stack in stacks/")
	fs.StringVar(&opts.Root, "root", "", "repository root (default: found from the working directory)")
	fs.Var(&packs, "policy-pack", "policy pack directory or executable (repeatable)")
	fs.Var(&configs, "policy-pack-config", "policy pack config file (repeatable)")
	fs.Var(&sets, "config", "override a stack setting for this preview, key=value (repeatable), e.g. zonecast:minNodesPerZone=1")
	_ = fs.Parse(os.Args[1:])
	opts.PolicyPacks, opts.PolicyPackConfigs = packs, configs
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(os.Stderr, "zonecast-preview: -config %q is not key=value\n", kv)
			os.Exit(2)
		}
		if opts.Config == nil {
			opts.Config = map[string]string{}
		}
		opts.Config[k] = v
	}
	if *verbose {
		opts.Progress = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	start := time.Now()
	res, err := preview.Run(ctx, opts)
	// Resource lines only for a preview that ran to its end (a program error
	// leaves a partial list).
	if res != nil && (err == nil || len(res.Violations) > 0) {
		for _, r := range res.Resources {
			fmt.Println(r.Line())
			if *verbose {
				printInputs(os.Stdout, r.Inputs)
			}
		}
	}
	if res != nil {
		for _, w := range res.Warnings {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
		for _, v := range res.Violations {
			fmt.Fprintln(os.Stderr, v)
		}
	}
	if err != nil {
		mandatory := 0
		if res != nil {
			for _, v := range res.Violations {
				if v.Level == "mandatory" {
					mandatory++
				}
			}
		}
		if mandatory > 0 {
			fmt.Fprintf(os.Stderr, "zonecast-preview: stack %s refused by the policy pack: %d mandatory violation(s) above\n", opts.Stack, mandatory)
		} else {
			// The engine's own error (it carries the program's message).
			fmt.Fprintln(os.Stderr, "zonecast-preview:", err)
		}
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "zonecast-preview: stack %s: %d resources to create, %d policy diagnostics, %.1fs\n",
		opts.Stack, len(res.Resources), len(res.Violations), time.Since(start).Seconds())
}

// printInputs prints the top-level inputs, one per line, long values cut.
func printInputs(w io.Writer, inputs map[string]any) {
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		if !strings.HasPrefix(k, "__") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fmt.Sprint(inputs[k])
		if len(v) > 160 {
			v = v[:157] + "..."
		}
		fmt.Fprintf(w, "    %s: %s\n", k, v)
	}
}
