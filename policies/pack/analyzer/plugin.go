package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// Args is how the engine starts the plugin, in either of its two ways:
//
//	plugin ENGINE_ADDRESS                   (--policy-pack names the executable)
//	plugin ENGINE_ADDRESS PACK_DIR [-k=v…]  (pulumi-analyzer-policy-<runtime> for a pack directory)
type Args struct {
	EngineAddress string
	PackDir       string
	Options       map[string]string // PulumiPolicy.yaml runtime options, unused by this pack
}

// ParseArgs reads the command line; it accepts both forms and no address at
// all (for tests that only speak the analyzer protocol).
func ParseArgs(argv []string) (Args, error) {
	a := Args{Options: map[string]string{}}
	var positional []string
	for _, s := range argv {
		if strings.HasPrefix(s, "-") && len(s) > 1 {
			k, v, _ := strings.Cut(strings.TrimLeft(s, "-"), "=")
			a.Options[k] = v
			continue
		}
		positional = append(positional, s)
	}
	if len(positional) > 2 {
		return a, fmt.Errorf("expected [ENGINE_ADDRESS [PACK_DIR]], got %q", positional)
	}
	if len(positional) > 0 {
		a.EngineAddress = positional[0]
	}
	if len(positional) > 1 {
		a.PackDir = positional[1]
	}
	return a, nil
}

// Env is what the engine passes in the environment (directory form only).
type Env struct {
	Config string // PULUMI_CONFIG: JSON object of the stack's config
}

// regionFromConfig reads aws:region from PULUMI_CONFIG.
func regionFromConfig(configJSON string) string {
	if configJSON == "" {
		return ""
	}
	var m map[string]string
	if json.Unmarshal([]byte(configJSON), &m) != nil {
		return ""
	}
	return m["aws:region"]
}

// Serve listens on a loopback port, prints it on stdout as the engine
// expects of every plugin, and serves the analyzer until ctx ends.
func Serve(ctx context.Context, a Args, env Env, stdout io.Writer, log *slog.Logger) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	engine := newEngineLog(log, a.EngineAddress)
	defer engine.close()
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(256 << 20))
	pulumirpc.RegisterAnalyzerServer(srv, NewServer(log, engine, regionFromConfig(env.Config)))

	port := lis.Addr().(*net.TCPAddr).Port
	if _, err := fmt.Fprintf(stdout, "%d\n", port); err != nil {
		return fmt.Errorf("print port: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		srv.GracefulStop()
		return nil
	case err := <-errc:
		return err
	}
}
