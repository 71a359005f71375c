// Package analyzer serves zonecast's policy pack over Pulumi's analyzer
// gRPC protocol (pulumirpc.AnalyzerServer). The rules themselves live in
// policies/pack/rules; this package converts the engine's requests into
// rules.Resource values and the findings back into diagnostics.
package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/zonecast/zonecast/policies/pack/rules"
)

// PackName is the policy pack's name as the engine shows it.
const PackName = "zonecast"

// Version is the pack's version; PulumiPolicy.yaml carries the same.
const Version = "0.1.0"

// Server answers the engine. It is safe for concurrent use: the engine
// analyzes resources in parallel.
type Server struct {
	pulumirpc.UnimplementedAnalyzerServer

	log    *slog.Logger
	engine *engineLog

	mu     sync.RWMutex
	cfg    rules.Config
	stack  string
	dryRun bool

	canceled atomic.Bool
}

// NewServer returns a server with the pack's default configuration.
// defaultRegion is the stack's aws:region when the engine passed it in the
// environment (PULUMI_CONFIG); ConfigureStack may set it later.
func NewServer(log *slog.Logger, engine *engineLog, defaultRegion string) *Server {
	cfg := rules.DefaultConfig()
	cfg.DefaultRegion = defaultRegion
	return &Server{log: log, engine: engine, cfg: cfg}
}

func (s *Server) config() rules.Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cfg
	c.Levels = maps.Clone(s.cfg.Levels)
	return c
}

// Handshake records the engine's address (for logging back to it).
func (s *Server) Handshake(_ context.Context, req *pulumirpc.AnalyzerHandshakeRequest) (*pulumirpc.AnalyzerHandshakeResponse, error) {
	if addr := req.GetEngineAddress(); addr != "" {
		s.engine.setAddress(addr)
	}
	s.log.Debug("handshake", "engine", req.GetEngineAddress(), "root", req.GetRootDirectory())
	return &pulumirpc.AnalyzerHandshakeResponse{}, nil
}

// ConfigureStack records the stack under analysis and its aws:region.
func (s *Server) ConfigureStack(_ context.Context, req *pulumirpc.AnalyzerStackConfigureRequest) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	s.mu.Lock()
	s.stack = req.GetProject() + "/" + req.GetStack()
	s.dryRun = req.GetDryRun()
	if r := req.GetConfig()["aws:region"]; r != "" {
		s.cfg.DefaultRegion = r
	}
	s.mu.Unlock()
	s.engine.debug(fmt.Sprintf("zonecast policy pack %s analyzing %s/%s (preview: %v)",
		Version, req.GetProject(), req.GetStack(), req.GetDryRun()))
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

// GetPluginInfo never fails: the engine aborts loading the pack if it does,
// and it may be called before ConfigureStack (pulumi policy analyze).
func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// GetAnalyzerInfo describes every policy.
func (s *Server) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	cfg := s.config()
	info := &pulumirpc.AnalyzerInfo{
		Name:           PackName,
		DisplayName:    "zonecast redundancy and security",
		Version:        Version,
		SupportsConfig: true,
		Description:    "Refuses infrastructure changes that would leave a zonecast region able to go black.",
		Provider:       "aws",
	}
	for _, p := range rules.Policies() {
		pi := &pulumirpc.PolicyInfo{
			Name:             p.Name,
			DisplayName:      p.Name,
			Description:      p.Description,
			Message:          p.Remediation,
			RemediationSteps: p.Remediation,
			EnforcementLevel: toProtoLevel(cfg.Level(p)),
			PolicyType:       pulumirpc.PolicyType_POLICY_TYPE_RESOURCE,
			Severity:         severity(p),
		}
		if p.Kind == rules.StackKind {
			pi.PolicyType = pulumirpc.PolicyType_POLICY_TYPE_STACK
		}
		if len(p.ConfigSchema) > 0 {
			props, err := structpb.NewStruct(p.ConfigSchema)
			if err != nil {
				return nil, status.Errorf(codes.Internal, "config schema of %s: %v", p.Name, err)
			}
			pi.ConfigSchema = &pulumirpc.PolicyConfigSchema{Properties: props}
		}
		info.Policies = append(info.Policies, pi)
	}
	return info, nil
}

// Configure applies per-policy enforcement levels and the cost budget.
func (s *Server) Configure(_ context.Context, req *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	levels := map[string]rules.Level{}
	cost := rules.DefaultCostConfig()
	for name, pc := range req.GetPolicyConfig() {
		if _, ok := rules.PolicyByName(name); !ok && name != "all" {
			return nil, status.Errorf(codes.InvalidArgument, "unknown policy %q in the pack config; known: %v", name, policyNames())
		}
		levels[name] = fromProtoLevel(pc.GetEnforcementLevel())
		if name == "cost-budget" && pc.GetProperties() != nil {
			if err := decodeCost(pc.GetProperties().AsMap(), &cost); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "cost-budget config: %v", err)
			}
		}
	}
	if all, ok := levels["all"]; ok {
		delete(levels, "all")
		for _, p := range rules.Policies() {
			if _, set := levels[p.Name]; !set {
				levels[p.Name] = all
			}
		}
	}
	s.mu.Lock()
	s.cfg.Levels = levels
	s.cfg.Cost = cost
	s.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// decodeCost reads the cost policy's properties through JSON, which maps
// the engine's numbers and lists onto CostConfig's fields.
func decodeCost(props map[string]any, into *rules.CostConfig) error {
	b, err := json.Marshal(props)
	if err != nil {
		return err
	}
	var c struct {
		AllowedFamilies []string           `json:"allowedFamilies"`
		MaxSizePerZone  *int               `json:"maxSizePerZone"`
		MaxHourlyUSD    *float64           `json:"maxHourlyUSD"`
		HourlyPriceUSD  map[string]float64 `json:"hourlyPriceUSD"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.AllowedFamilies != nil {
		into.AllowedFamilies = c.AllowedFamilies
	}
	if c.MaxSizePerZone != nil {
		into.MaxSizePerZone = *c.MaxSizePerZone
	}
	if c.MaxHourlyUSD != nil {
		into.MaxHourlyUSD = *c.MaxHourlyUSD
	}
	if c.HourlyPriceUSD != nil {
		into.HourlyPriceUSD = c.HourlyPriceUSD
	}
	return nil
}

// Analyze judges one resource's checked inputs.
func (s *Server) Analyze(_ context.Context, req *pulumirpc.AnalyzeRequest) (*pulumirpc.AnalyzeResponse, error) {
	if s.canceled.Load() {
		return nil, status.Error(codes.Canceled, "analysis canceled")
	}
	r, err := fromAnalyzeRequest(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "zonecast policy pack: %v", err)
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: diagnostics(rules.CheckResource(r, s.config()))}, nil
}

// AnalyzeStack judges the whole stack's outputs.
func (s *Server) AnalyzeStack(_ context.Context, req *pulumirpc.AnalyzeStackRequest) (*pulumirpc.AnalyzeResponse, error) {
	if s.canceled.Load() {
		return nil, status.Error(codes.Canceled, "analysis canceled")
	}
	rs := make([]rules.Resource, 0, len(req.GetResources()))
	for _, res := range req.GetResources() {
		r, err := fromStackResource(res)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "zonecast policy pack: %v", err)
		}
		rs = append(rs, r)
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: diagnostics(rules.CheckStack(rs, s.config()))}, nil
}

// Remediate changes nothing: zonecast's policies refuse, they do not rewrite.
func (s *Server) Remediate(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	return &pulumirpc.RemediateResponse{}, nil
}

// Cancel makes later analysis calls fail fast.
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.canceled.Store(true)
	return &emptypb.Empty{}, nil
}

func diagnostics(vs []rules.Violation) []*pulumirpc.AnalyzeDiagnostic {
	out := make([]*pulumirpc.AnalyzeDiagnostic, 0, len(vs))
	for _, v := range vs {
		p, _ := rules.PolicyByName(v.Policy)
		out = append(out, &pulumirpc.AnalyzeDiagnostic{
			PolicyName:        v.Policy,
			PolicyPackName:    PackName,
			PolicyPackVersion: Version,
			Description:       p.Description,
			Message:           v.Message,
			EnforcementLevel:  toProtoLevel(v.Level),
			Urn:               v.URN,
			Severity:          severity(p),
		})
	}
	return out
}

func severity(p rules.Policy) pulumirpc.PolicySeverity {
	if p.Default == rules.Mandatory {
		return pulumirpc.PolicySeverity_POLICY_SEVERITY_HIGH
	}
	return pulumirpc.PolicySeverity_POLICY_SEVERITY_LOW
}

func toProtoLevel(l rules.Level) pulumirpc.EnforcementLevel {
	switch l {
	case rules.Advisory:
		return pulumirpc.EnforcementLevel_ADVISORY
	case rules.Disabled:
		return pulumirpc.EnforcementLevel_DISABLED
	default:
		return pulumirpc.EnforcementLevel_MANDATORY
	}
}

// fromProtoLevel maps the engine's levels; remediate counts as mandatory,
// as the engine itself treats it when nothing was remediated.
func fromProtoLevel(l pulumirpc.EnforcementLevel) rules.Level {
	switch l {
	case pulumirpc.EnforcementLevel_ADVISORY:
		return rules.Advisory
	case pulumirpc.EnforcementLevel_DISABLED:
		return rules.Disabled
	default:
		return rules.Mandatory
	}
}

func policyNames() []string {
	var out []string
	for _, p := range rules.Policies() {
		out = append(out, p.Name)
	}
	return out
}
