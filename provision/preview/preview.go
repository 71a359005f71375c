// Package preview runs zonecast's Pulumi program through the real Pulumi
// engine without an AWS account: the Automation API drives the CLI built in
// bin/ (tools/pulumi) against a local file backend in a temporary directory,
// with the program as an inline program (no Go language host needed) and the
// stand-in AWS provider (bin/pulumi-resource-aws, provision/internal/fakeaws)
// found on PATH. Policy packs are passed through to the engine, so a pack
// that refuses the stack fails the preview with its violations.
//
// A regional stack reads its global stack's outputs through a
// StackReference; the harness first runs `up` on that global stack (global,
// or the one its zonecast:globalStack names) in the same temporary backend
// (against the stand-in), then previews the region. Settings that belong to
// a deployment, not to stacks/ (secrets, the release pin, the CDN's origin
// names), get placeholders when unset.
package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/zonecast/zonecast/provision/program"
	"github.com/zonecast/zonecast/provision/relaytls"
)

// Project is the Pulumi project name (Pulumi.yaml).
const Project = "zonecast"

// GlobalStack is the stack a regional stack's StackReference reads unless
// its zonecast:globalStack names another (dev reads dev-global).
const GlobalStack = "global"

// Passphrase encrypts the temporary backend's secrets; nothing leaves it.
const Passphrase = "zonecast-offline-preview"

// Placeholders for the settings that belong to one deployment and are
// therefore not in stacks/: a region's secrets (set with `pulumi config
// set --secret`; the relay's TLS material is made fresh for each preview)
// and release pin, and a global stack's CDN origin names.
func placeholders(kind string) (secret, plain map[string]string, err error) {
	ns := program.Namespace + ":"
	if kind == program.KindGlobal {
		return map[string]string{
				// The secret CloudFront sends the origins, which the
				// regions' edges then require.
				ns + "originSecret": "preview-placeholder-origin-secret",
			}, map[string]string{
				ns + "originDomain":          "origin.preview.invalid",
				ns + "secondaryOriginDomain": "origin-b.preview.invalid",
			}, nil
	}
	relay, err := relaytls.Generate()
	if err != nil {
		return nil, nil, err
	}
	return map[string]string{
			ns + "redisAuthToken": "preview-placeholder-auth-token",
			ns + "adminToken":     "preview-placeholder-admin-token",
			ns + "streams":        "preview:preview-placeholder-passphrase",
			ns + "relayCa":        relay.CA,
			ns + "relayCert":      relay.Cert,
			ns + "relayKey":       relay.Key,
		}, map[string]string{
			ns + "edgeVersion": "0.0.0-preview",
			ns + "edgeSha256":  strings.Repeat("0", 64),
		}, nil
}

// Options configures a preview.
type Options struct {
	// Root is the repository root: Pulumi.yaml, stacks/ and bin/ (with
	// pulumi and pulumi-resource-aws). Empty: found upwards from the
	// working directory.
	Root string
	// Stack names stacks/Pulumi.<Stack>.yaml.
	Stack string
	// StackFile overrides the stack settings file (tests use altered copies).
	StackFile string
	// GlobalStackFile overrides stacks/Pulumi.<global stack>.yaml for the
	// global stack a region reads.
	GlobalStackFile string
	// Config sets extra (plain) settings on the previewed stack, e.g.
	// "zonecast:minNodesPerZone": "1".
	Config map[string]string
	// PolicyPacks are paths (relative to Root or absolute) given to the
	// engine as --policy-pack; PolicyPackConfigs as --policy-pack-config.
	PolicyPacks       []string
	PolicyPackConfigs []string
	// Program defaults to program.Run.
	Program pulumi.RunFunc
	// WorkDir holds the backend, the workspace and PULUMI_HOME; empty: a
	// temporary directory removed afterwards.
	WorkDir string
	// Progress receives the engine's progress output (nil: discarded).
	Progress io.Writer
}

// Resource is one resource `pulumi up` would create.
type Resource struct {
	Type string // Pulumi type token, e.g. aws:autoscaling/group:Group
	Name string // logical name, e.g. zone-a-edges
	URN  string
	// Inputs are the resource's checked inputs (unknowns shown as
	// "<computed>", secrets as "<secret>").
	Inputs map[string]any
}

// Line is the contract line: "<type> <name>".
func (r Resource) Line() string { return r.Type + " " + r.Name }

// Violation is one policy diagnostic.
type Violation struct {
	Pack, Policy, Level, Message, URN string
}

func (v Violation) String() string {
	s := fmt.Sprintf("policy violation [%s] %s/%s: %s", v.Level, v.Pack, v.Policy, strings.TrimSpace(v.Message))
	if v.URN != "" {
		s += " (" + v.URN + ")"
	}
	return s
}

// Result is what a preview found.
type Result struct {
	Stack      string
	Resources  []Resource
	Violations []Violation
	// Warnings are the engine's and the program's warnings.
	Warnings []string
	// StdOut and StdErr are the engine's outputs.
	StdOut, StdErr string
}

// Lines are the contract lines, sorted by type then name.
func (r *Result) Lines() []string {
	var out []string
	for _, res := range r.Resources {
		out = append(out, res.Line())
	}
	return out
}

// FindRoot walks up from dir to the directory holding Pulumi.yaml.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Pulumi.yaml above %s", dir)
		}
	}
}

// CheckTools reports, with how to fix it, a missing CLI or stand-in provider.
func CheckTools(root string) error {
	var errs []error
	for _, tool := range []struct{ bin, make string }{
		{"pulumi", "make pulumi-cli (builds the Pulumi CLI from the Go module proxy, 5–12 min cold)"},
		{"pulumi-resource-aws", "make provision-tools (builds the stand-in AWS provider)"},
	} {
		if _, err := os.Stat(filepath.Join(root, "bin", tool.bin)); err != nil {
			errs = append(errs, fmt.Errorf("bin/%s is missing: run `%s`", tool.bin, tool.make))
		}
	}
	return errors.Join(errs...)
}

// Run previews opts.Stack.
func Run(ctx context.Context, opts Options) (*Result, error) {
	h, st, cleanup, err := prepare(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return h.preview(ctx, st)
}

// prepare makes the harness and the stack opts names, after `up` of the
// global stack a region reads; cleanup removes a temporary WorkDir.
func prepare(ctx context.Context, opts Options) (h *harness, st auto.Stack, cleanup func(), err error) {
	cleanup = func() {}
	if opts.Stack == "" {
		return nil, st, cleanup, errors.New("preview: no stack given")
	}
	if opts.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, st, cleanup, err
		}
		if opts.Root, err = FindRoot(wd); err != nil {
			return nil, st, cleanup, err
		}
	}
	if err := CheckTools(opts.Root); err != nil {
		return nil, st, cleanup, err
	}
	if opts.Program == nil {
		opts.Program = program.Run
	}
	if opts.StackFile == "" {
		opts.StackFile = stackFile(opts.Root, opts.Stack)
	}
	settings, err := readSettings(opts.StackFile)
	if err != nil {
		return nil, st, cleanup, fmt.Errorf("preview: stack %q has no settings file: %w", opts.Stack, err)
	}
	kind, globalStack := settings.kind(opts.Stack), settings.globalStack()
	if opts.GlobalStackFile == "" {
		opts.GlobalStackFile = stackFile(opts.Root, globalStack)
	}
	if opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "zonecast-preview-")
		if err != nil {
			return nil, st, cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		opts.WorkDir = dir
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	ok := false
	defer func() {
		if !ok {
			cleanup()
		}
	}()
	if h, err = newHarness(opts); err != nil {
		return nil, st, cleanup, err
	}

	if kind != program.KindGlobal {
		// The region's StackReference needs the global stack's outputs.
		g, err := h.stack(ctx, globalStack, opts.GlobalStackFile, program.KindGlobal, nil)
		if err != nil {
			return nil, st, cleanup, err
		}
		if _, err := g.Up(ctx, optup.ProgressStreams(opts.Progress), optup.SuppressProgress()); err != nil {
			return nil, st, cleanup, fmt.Errorf("preview: `up` of the global stack in the temporary backend: %w", err)
		}
	}
	if st, err = h.stack(ctx, opts.Stack, opts.StackFile, kind, opts.Config); err != nil {
		return nil, st, cleanup, err
	}
	ok = true
	return h, st, cleanup, nil
}

func stackFile(root, stack string) string {
	return filepath.Join(root, "stacks", "Pulumi."+stack+".yaml")
}

// settings are a stack settings file's flat config.
type settings map[string]string

func readSettings(file string) (settings, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s := settings{}
	if err := parseConfig(raw, s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

// kind is what the stack builds, as program.Kind decides it.
func (s settings) kind(stack string) string {
	if k := s[program.Namespace+":kind"]; k != "" {
		return k
	}
	if stack == GlobalStack {
		return program.KindGlobal
	}
	return program.KindRegion
}

// globalStack is the stack name a region's StackReference reads (the last
// part of an <org>/<project>/<stack> reference).
func (s settings) globalStack() string {
	g := s[program.Namespace+":globalStack"]
	if g == "" {
		return GlobalStack
	}
	return g[strings.LastIndex(g, "/")+1:]
}

type harness struct {
	opts    Options
	env     map[string]string
	command auto.PulumiCommand
}

func newHarness(opts Options) (*harness, error) {
	backend := filepath.Join(opts.WorkDir, "backend")
	home := filepath.Join(opts.WorkDir, "pulumi-home")
	for _, d := range []string{backend, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	bin := filepath.Join(opts.Root, "bin")
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: opts.Root, SkipVersionCheck: true})
	if err != nil {
		return nil, fmt.Errorf("preview: the Pulumi CLI in %s: %w", bin, err)
	}
	return &harness{
		opts:    opts,
		command: cmd,
		env: map[string]string{
			"PATH":                     bin + string(os.PathListSeparator) + os.Getenv("PATH"),
			"PULUMI_HOME":              home,
			"PULUMI_BACKEND_URL":       "file://" + backend,
			"PULUMI_CONFIG_PASSPHRASE": Passphrase,
			"PULUMI_SKIP_UPDATE_CHECK": "true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
			"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
			"PULUMI_SKIP_CONFIRMATIONS":                   "true",
			// The stand-in needs no credentials; make sure no real ones leak in.
			"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		},
	}, nil
}

// stack creates (or selects) a stack in its own workspace directory, with
// its settings copied from settingsFile so that the repository's stack
// files are never written to (the engine adds an encryption salt).
func (h *harness) stack(ctx context.Context, name, settingsFile, kind string, extra map[string]string) (auto.Stack, error) {
	dir := filepath.Join(h.opts.WorkDir, "workspace-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return auto.Stack{}, err
	}
	settings, err := os.ReadFile(settingsFile)
	if err != nil {
		return auto.Stack{}, err
	}
	// Copied once: a reused WorkDir keeps the encryption salt the engine
	// added, which the backend's secrets were encrypted with.
	dst := filepath.Join(dir, "Pulumi."+name+".yaml")
	if _, err := os.Stat(dst); os.IsNotExist(err) {
		if err := os.WriteFile(dst, settings, 0o644); err != nil {
			return auto.Stack{}, err
		}
	}
	st, err := auto.UpsertStackInlineSource(ctx, name, Project, h.opts.Program,
		auto.WorkDir(dir),
		auto.Pulumi(h.command),
		auto.EnvVars(h.env),
		auto.PulumiHome(h.env["PULUMI_HOME"]),
		auto.SecretsProvider("passphrase"),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName(Project),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: h.env["PULUMI_BACKEND_URL"]},
		}),
	)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("preview: stack %s: %w", name, err)
	}
	cfg, err := st.GetAllConfig(ctx)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("preview: config of %s: %w", name, err)
	}
	secret, plain, err := placeholders(kind)
	if err != nil {
		return auto.Stack{}, err
	}
	for _, set := range []struct {
		values map[string]string
		secret bool
	}{{secret, true}, {plain, false}} {
		for key, value := range set.values {
			if _, ok := cfg[key]; !ok {
				if err := st.SetConfig(ctx, key, auto.ConfigValue{Value: value, Secret: set.secret}); err != nil {
					return auto.Stack{}, err
				}
			}
		}
	}
	for key, value := range extra {
		if err := st.SetConfig(ctx, key, auto.ConfigValue{Value: value}); err != nil {
			return auto.Stack{}, err
		}
	}
	return st, nil
}

func (h *harness) preview(ctx context.Context, st auto.Stack) (*Result, error) {
	ch := make(chan events.EngineEvent)
	res := &Result{Stack: st.Name()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			collect(res, ev.EngineEvent)
		}
	}()
	popts := []optpreview.Option{
		optpreview.EventStreams(ch),
		optpreview.ProgressStreams(h.opts.Progress),
	}
	var packs []string
	for _, p := range h.opts.PolicyPacks {
		packs = append(packs, h.abs(p))
	}
	if len(packs) > 0 {
		popts = append(popts, optpreview.PolicyPacks(packs...))
	}
	var packConfigs []string
	for _, p := range h.opts.PolicyPackConfigs {
		packConfigs = append(packConfigs, h.abs(p))
	}
	if len(packConfigs) > 0 {
		popts = append(popts, optpreview.PolicyPackConfigs(packConfigs...))
	}
	out, err := st.Preview(ctx, popts...)
	<-done
	res.StdOut, res.StdErr = out.StdOut, out.StdErr
	sort.Slice(res.Resources, func(i, j int) bool {
		a, b := res.Resources[i], res.Resources[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	if err != nil {
		return res, fmt.Errorf("preview of %s failed: %w", st.Name(), err)
	}
	for _, v := range res.Violations {
		if v.Level == "mandatory" {
			return res, fmt.Errorf("preview of %s: mandatory policy violation: %s", st.Name(), v)
		}
	}
	return res, nil
}

func (h *harness) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(h.opts.Root, p)
}

func collect(res *Result, ev apitype.EngineEvent) {
	switch {
	case ev.ResourcePreEvent != nil:
		md := ev.ResourcePreEvent.Metadata
		if md.Op != apitype.OpCreate {
			return
		}
		urn := resource.URN(md.URN)
		r := Resource{Type: md.Type, Name: urn.Name(), URN: md.URN}
		if md.New != nil {
			r.Inputs = readable(md.New.Inputs).(map[string]any)
		}
		res.Resources = append(res.Resources, r)
	case ev.DiagnosticEvent != nil && ev.DiagnosticEvent.Severity == "warning":
		d := ev.DiagnosticEvent
		msg := strings.TrimSpace(d.Message)
		if d.URN != "" {
			msg = resource.URN(d.URN).Name() + ": " + msg
		}
		res.Warnings = append(res.Warnings, msg)
	case ev.PolicyEvent != nil:
		p := ev.PolicyEvent
		res.Violations = append(res.Violations, Violation{
			Pack: p.PolicyPackName, Policy: p.PolicyName, Level: p.EnforcementLevel,
			Message: p.Message, URN: p.ResourceURN,
		})
	}
}

// readable replaces the engine's unknown sentinel by "<computed>".
func readable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = readable(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = readable(e)
		}
		return out
	case string:
		if v == plugin.UnknownStringValue {
			return "<computed>"
		}
	}
	return v
}

// parseConfig reads a stack settings file's `config:` into flat strings
// (objects and lists as JSON), the form PULUMI_CONFIG takes.
func parseConfig(raw []byte, into map[string]string) error {
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return err
	}
	for k, v := range file.Config {
		if s, ok := v.(string); ok {
			into[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		into[k] = string(b)
	}
	return nil
}
