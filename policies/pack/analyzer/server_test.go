package analyzer

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/zonecast/zonecast/policies/pack/internal/fixture"
	"github.com/zonecast/zonecast/policies/pack/rules"
)

// serve starts the plugin's server as the engine would reach it: a port
// printed on stdout, then gRPC on loopback.
func serve(t *testing.T, a Args, env Env) pulumirpc.AnalyzerClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, a, env, pw, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading port: %v", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || port <= 0 {
		t.Fatalf("plugin printed %q, not a port", line)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return pulumirpc.NewAnalyzerClient(conn)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// marshal encodes properties the way the engine does for Analyze.
func marshal(t *testing.T, r rules.Resource) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(r.Properties, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func analyzeRequest(t *testing.T, r rules.Resource, region string) *pulumirpc.AnalyzeRequest {
	req := &pulumirpc.AnalyzeRequest{Urn: r.URN, Type: r.Type, Name: r.Name, Properties: marshal(t, r)}
	if region != "" {
		req.Provider = &pulumirpc.AnalyzerProviderResource{Type: "pulumi:providers:aws", Name: "default",
			Properties: &structpb.Struct{Fields: map[string]*structpb.Value{"region": structpb.NewStringValue(region)}}}
	}
	return req
}

func stackRequest(t *testing.T, rs []rules.Resource) *pulumirpc.AnalyzeStackRequest {
	req := &pulumirpc.AnalyzeStackRequest{}
	for _, r := range rs {
		ar := &pulumirpc.AnalyzerResource{Urn: r.URN, Type: r.Type, Name: r.Name, Properties: marshal(t, r)}
		if len(r.PropertyDependencies) > 0 {
			ar.PropertyDependencies = map[string]*pulumirpc.AnalyzerPropertyDependencies{}
			for k, v := range r.PropertyDependencies {
				ar.PropertyDependencies[k] = &pulumirpc.AnalyzerPropertyDependencies{Urns: v}
			}
		}
		req.Resources = append(req.Resources, ar)
	}
	return req
}

// analyzeAll sends every resource through Analyze, then the stack through
// AnalyzeStack, as a preview does, and returns all diagnostics.
func analyzeAll(t *testing.T, c pulumirpc.AnalyzerClient, s *fixture.Set) []*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	ctx := ctxT(t)
	var out []*pulumirpc.AnalyzeDiagnostic
	rs := s.Resources()
	for _, r := range rs {
		resp, err := c.Analyze(ctx, analyzeRequest(t, r, ""))
		if err != nil {
			t.Fatalf("Analyze %s: %v", r.URN, err)
		}
		out = append(out, resp.GetDiagnostics()...)
	}
	resp, err := c.AnalyzeStack(ctx, stackRequest(t, rs))
	if err != nil {
		t.Fatalf("AnalyzeStack: %v", err)
	}
	return append(out, resp.GetDiagnostics()...)
}

func TestGetPluginInfoBeforeConfigureStack(t *testing.T) {
	c := serve(t, Args{}, Env{})
	info, err := c.GetPluginInfo(ctxT(t), &emptypb.Empty{})
	if err != nil || info.GetVersion() != Version {
		t.Fatalf("GetPluginInfo = %v, %v; want version %s", info, err, Version)
	}
}

func TestAnalyzerInfoDescribesEveryPolicy(t *testing.T) {
	c := serve(t, Args{}, Env{})
	info, err := c.GetAnalyzerInfo(ctxT(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != PackName || info.GetVersion() != Version || !info.GetSupportsConfig() {
		t.Fatalf("pack info: %v", info)
	}
	want := rules.Policies()
	if len(info.GetPolicies()) != len(want) {
		t.Fatalf("%d policies, want %d", len(info.GetPolicies()), len(want))
	}
	for i, p := range info.GetPolicies() {
		w := want[i]
		if p.GetName() != w.Name || p.GetDescription() == "" || p.GetMessage() == "" {
			t.Errorf("policy %d: %v", i, p)
		}
		wantType := pulumirpc.PolicyType_POLICY_TYPE_RESOURCE
		if w.Kind == rules.StackKind {
			wantType = pulumirpc.PolicyType_POLICY_TYPE_STACK
		}
		wantLevel := pulumirpc.EnforcementLevel_MANDATORY
		if w.Default == rules.Advisory {
			wantLevel = pulumirpc.EnforcementLevel_ADVISORY
		}
		if p.GetPolicyType() != wantType || p.GetEnforcementLevel() != wantLevel {
			t.Errorf("%s: type %v level %v", p.GetName(), p.GetPolicyType(), p.GetEnforcementLevel())
		}
		if w.Name == "cost-budget" {
			props := p.GetConfigSchema().GetProperties().AsMap()
			if _, ok := props["maxHourlyUSD"]; !ok {
				t.Errorf("cost-budget schema lacks maxHourlyUSD: %v", props)
			}
		}
	}
}

// Per rule, a passing and a violating case over the wire: the shipped shape
// gives no diagnostics, each change gives a diagnostic of its policy naming
// the resource, at the level configured.
func TestAnalyzeOverGRPC(t *testing.T) {
	c := serve(t, Args{}, Env{})
	if d := analyzeAll(t, c, fixture.Shipped()); len(d) != 0 {
		t.Fatalf("shipped shape: %v", d)
	}
	for _, tc := range fixture.Violations {
		t.Run(tc.Name, func(t *testing.T) {
			s := fixture.Shipped()
			tc.Mutate(s)
			want := tc.URN(s)
			level := toProtoLevel(tc.Level)
			var got []string
			for _, d := range analyzeAll(t, c, s) {
				got = append(got, d.GetPolicyName()+" "+d.GetUrn())
				if d.GetPolicyName() == tc.Policy && d.GetUrn() == want && d.GetEnforcementLevel() == level &&
					d.GetPolicyPackName() == PackName && d.GetPolicyPackVersion() == Version &&
					strings.Contains(d.GetMessage(), "Fix:") && d.GetDescription() != "" {
					return
				}
			}
			t.Fatalf("no %v %s diagnostic for %q; got %v", level, tc.Policy, want, got)
		})
	}
}

// Unknowns travel as the engine's unknown sentinel; none is flagged.
func TestUnknownsOverGRPC(t *testing.T) {
	c := serve(t, Args{}, Env{})
	for _, tc := range fixture.Unknowns {
		t.Run(tc.Name, func(t *testing.T) {
			s := fixture.Shipped()
			tc.Mutate(s)
			if d := analyzeAll(t, c, s); len(d) != 0 {
				t.Fatalf("unknown flagged: %v", d)
			}
		})
	}
}

// Secrets travel as secret objects: a secret token (known or not) passes,
// a plain one is refused, and secret-wrapped values are read through.
func TestSecretsOverGRPC(t *testing.T) {
	c := serve(t, Args{}, Env{})
	cases := []struct {
		name   string
		mutate func(s *fixture.Set)
		policy string // "" = no diagnostic
	}{
		{"secret token", func(s *fixture.Set) {}, ""},
		{"secret unknown token", func(s *fixture.Set) {
			s.Get("eu-west-1-redis").Props["authToken"] = fixture.Secret(fixture.Unknown())
		}, ""},
		{"plain token", func(s *fixture.Set) {
			s.Get("eu-west-1-redis").Props["authToken"] = "0123456789abcdef0123"
		}, "redis-replication-group"},
		{"secret-wrapped tags and flags", func(s *fixture.Set) {
			asg := s.Get("eu-west-1-a-edges")
			asg.Props["tags"] = fixture.Secret(asg.Props["tags"])
			s.Get("eu-west-1-redis").Props["multiAzEnabled"] = fixture.Secret(false)
		}, "redis-replication-group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture.Shipped()
			tc.mutate(s)
			d := analyzeAll(t, c, s)
			if tc.policy == "" && len(d) != 0 || tc.policy != "" && (len(d) != 1 || d[0].GetPolicyName() != tc.policy) {
				t.Fatalf("diagnostics %v, want %q", d, tc.policy)
			}
		})
	}
}

func TestConfigureLevelsAndBudget(t *testing.T) {
	c := serve(t, Args{}, Env{})
	ctx := ctxT(t)
	budget, _ := structpb.NewStruct(map[string]any{"maxHourlyUSD": 1.0})
	_, err := c.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{
		"redis-replication-group": {EnforcementLevel: pulumirpc.EnforcementLevel_ADVISORY},
		"cost-budget":             {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY, Properties: budget},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := fixture.Shipped()
	s.Get("eu-west-1-redis").Props["automaticFailoverEnabled"] = false
	levels := map[string]pulumirpc.EnforcementLevel{}
	for _, d := range analyzeAll(t, c, s) {
		levels[d.GetPolicyName()] = d.GetEnforcementLevel()
	}
	if levels["redis-replication-group"] != pulumirpc.EnforcementLevel_ADVISORY ||
		levels["cost-budget"] != pulumirpc.EnforcementLevel_MANDATORY || len(levels) != 2 {
		t.Fatalf("levels after Configure: %v", levels)
	}
	info, err := c.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range info.GetPolicies() {
		if p.GetName() == "redis-replication-group" && p.GetEnforcementLevel() != pulumirpc.EnforcementLevel_ADVISORY {
			t.Errorf("GetAnalyzerInfo does not reflect the configured level")
		}
	}
	_, err = c.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{
		"no-such-policy": {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY}}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "no-such-policy") {
		t.Fatalf("unknown policy: %v", err)
	}
}

// The region comes from the provider when the resource has no tag telling
// it, and from ConfigureStack's aws:region when neither does.
func TestRegionFromProviderAndStackConfig(t *testing.T) {
	c := serve(t, Args{}, Env{})
	ctx := ctxT(t)
	if _, err := c.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Project: "zonecast", Stack: "eu", DryRun: true, Config: map[string]string{"aws:region": "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	// An endpoint group without endpointGroupRegion serves its provider's
	// region; with no provider, the stack's.
	s := fixture.Shipped()
	delete(s.Get("eu-west-1-srt").Props, "endpointGroupRegion")
	if d := analyzeAll(t, c, s); len(d) != 0 {
		t.Fatalf("endpoint group placed by stack config: %v", d)
	}
	rs := s.Resources()
	req := stackRequest(t, rs)
	for i, r := range rs {
		if r.Name == "eu-west-1-srt" {
			req.Resources[i].Provider = &pulumirpc.AnalyzerProviderResource{
				Properties: &structpb.Struct{Fields: map[string]*structpb.Value{"region": structpb.NewStringValue("us-west-2")}}}
		}
	}
	resp, err := c.AnalyzeStack(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetDiagnostics()) == 0 || resp.GetDiagnostics()[0].GetPolicyName() != "region-endpoint-groups" {
		t.Fatalf("endpoint group of a us-west-2 provider counted for eu-west-1: %v", resp.GetDiagnostics())
	}
}

func TestRemediateAndCancel(t *testing.T) {
	c := serve(t, Args{}, Env{})
	ctx := ctxT(t)
	r := fixture.Shipped().Resources()[0]
	rem, err := c.Remediate(ctx, analyzeRequest(t, r, ""))
	if err != nil || len(rem.GetRemediations()) != 0 {
		t.Fatalf("Remediate = %v, %v", rem, err)
	}
	if _, err := c.Cancel(ctx, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Analyze(ctx, analyzeRequest(t, r, "")); status.Code(err) != codes.Canceled {
		t.Fatalf("Analyze after Cancel: %v", err)
	}
}

func TestBadPropertiesGiveAClearError(t *testing.T) {
	c := serve(t, Args{}, Env{})
	bad := &structpb.Struct{Fields: map[string]*structpb.Value{
		"x": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"4dabf18193072939515e22adb298388d": structpb.NewStringValue("not-a-known-signature")}})}}
	_, err := c.Analyze(ctxT(t), &pulumirpc.AnalyzeRequest{Urn: "urn:x", Type: "aws:x:X", Properties: bad})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "urn:x") {
		t.Fatalf("bad properties: %v", err)
	}
}

// fakeEngine records the log lines the plugin sends back.
type fakeEngine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	logs []string
}

func (e *fakeEngine) Log(_ context.Context, req *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, req.GetMessage())
	return &emptypb.Empty{}, nil
}

// The plugin honours the engine address (from the command line and from
// Handshake) by logging to it.
func TestLogsToTheEngineAddress(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{}
	srv := grpc.NewServer()
	pulumirpc.RegisterEngineServer(srv, eng)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	c := serve(t, Args{EngineAddress: "127.0.0.1:1"}, Env{})
	ctx := ctxT(t)
	if _, err := c.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{EngineAddress: lis.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Project: "zonecast", Stack: "dev"}); err != nil {
		t.Fatal(err)
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.logs) != 1 || !strings.Contains(eng.logs[0], "zonecast/dev") {
		t.Fatalf("engine logs: %q", eng.logs)
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		argv      []string
		addr, dir string
		err       bool
	}{
		{nil, "", "", false},
		{[]string{"127.0.0.1:5"}, "127.0.0.1:5", "", false},
		{[]string{"127.0.0.1:5", ".", "-opt=v"}, "127.0.0.1:5", ".", false},
		{[]string{"a", "b", "c"}, "", "", true},
	}
	for _, tc := range cases {
		a, err := ParseArgs(tc.argv)
		if (err != nil) != tc.err || (!tc.err && (a.EngineAddress != tc.addr || a.PackDir != tc.dir)) {
			t.Errorf("ParseArgs(%q) = %+v, %v", tc.argv, a, err)
		}
	}
	if regionFromConfig(`{"aws:region":"eu-west-1","zonecast:x":"y"}`) != "eu-west-1" || regionFromConfig("not json") != "" {
		t.Error("regionFromConfig")
	}
}
