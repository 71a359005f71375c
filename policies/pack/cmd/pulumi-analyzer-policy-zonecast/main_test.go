package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestPluginProcess starts the built plugin the two ways the CLI does and
// speaks to it over gRPC: it prints its port, answers GetPluginInfo before
// anything else, then Handshake, ConfigureStack, GetAnalyzerInfo and
// Analyze, and exits cleanly on SIGINT.
func TestPluginProcess(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "pulumi-analyzer-policy-zonecast")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	packDir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		dir  string
		env  []string
	}{
		{"executable form", []string{"127.0.0.1:1"}, t.TempDir(), nil},
		{"directory form", []string{"127.0.0.1:1", ".", "-someOption=x"}, packDir,
			[]string{`PULUMI_CONFIG={"aws:region":"eu-west-1"}`, "PULUMI_PROJECT=zonecast", "PULUMI_STACK=dev", "PULUMI_DRY_RUN=true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, tc.args...)
			cmd.Dir = tc.dir
			cmd.Env = append(os.Environ(), tc.env...)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			defer func() {
				_ = cmd.Process.Kill()
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("no port line: %v", err)
			}
			port, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("stdout %q is not a port", line)
			}
			go func() { exited <- cmd.Wait() }()

			conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c := pulumirpc.NewAnalyzerClient(conn)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			info, err := c.GetPluginInfo(ctx, &emptypb.Empty{}, grpc.WaitForReady(true))
			if err != nil || info.GetVersion() == "" {
				t.Fatalf("GetPluginInfo before ConfigureStack: %v, %v", info, err)
			}
			dir := tc.dir
			if _, err := c.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{EngineAddress: "127.0.0.1:1",
				RootDirectory: &dir, ProgramDirectory: &dir}); err != nil {
				t.Fatalf("Handshake: %v", err)
			}
			if _, err := c.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Project: "zonecast", Stack: "dev", DryRun: true}); err != nil {
				t.Fatalf("ConfigureStack: %v", err)
			}
			ai, err := c.GetAnalyzerInfo(ctx, &emptypb.Empty{})
			if err != nil || len(ai.GetPolicies()) == 0 {
				t.Fatalf("GetAnalyzerInfo: %v, %v", ai, err)
			}
			props, _ := structpb.NewStruct(map[string]any{"minSize": 1.0})
			resp, err := c.Analyze(ctx, &pulumirpc.AnalyzeRequest{
				Urn: "urn:pulumi:dev::zonecast::aws:autoscaling/group:Group::a-edges", Type: "aws:autoscaling/group:Group",
				Name: "a-edges", Properties: props})
			if err != nil || len(resp.GetDiagnostics()) != 1 || resp.GetDiagnostics()[0].GetPolicyName() != "asg-min-size" {
				t.Fatalf("Analyze: %v, %v", resp, err)
			}
			if _, err := c.Cancel(ctx, &emptypb.Empty{}); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("plugin exit: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("plugin did not exit on SIGINT")
			}
		})
	}
}
