// Command zonecast-render writes what the Pulumi program renders for each
// zone's nodes of a region stack, through the real engine and the stand-in
// provider with secrets at test values (see preview.Render), to
// <out>/<zone>/:
//
//	user-data.sh        the launch template's boot script
//	edge.env            the edge's environment file (its SSM parameter)
//	ssm/<name>          every SSM parameter the boot script reads
//	PARAMETERS          each of them: "stack" (the stack creates it) or
//	                    "test-value" (the operator creates it by hand; a
//	                    self-signed certificate stands in)
//
//	zonecast-render -stack eu-west-1 [-out .cache/render/eu-west-1]
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/zonecast/zonecast/provision/preview"
)

func main() {
	fs := flag.NewFlagSet("zonecast-render", flag.ExitOnError)
	var opts preview.Options
	fs.StringVar(&opts.Stack, "stack", "", "region stack to render (stacks/Pulumi.<stack>.yaml)")
	fs.StringVar(&opts.Root, "root", "", "repository root (default: found from the working directory)")
	out := fs.String("out", "", "output directory (default .cache/render/<stack> under the root)")
	var sets multiFlag
	fs.Var(&sets, "config", "set a stack setting for this rendering, key=value (repeatable), e.g. zonecast:edgeVersion=1.2.3")
	verbose := fs.Bool("v", false, "show the engine's progress")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	_ = fs.Parse(os.Args[1:])
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(os.Stderr, "zonecast-render: -config %q is not key=value\n", kv)
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
	if err := run(opts, *out, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "zonecast-render:", err)
		os.Exit(1)
	}
}

func run(opts preview.Options, out string, timeout time.Duration) error {
	if opts.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if opts.Root, err = preview.FindRoot(wd); err != nil {
			return err
		}
	}
	if out == "" {
		out = filepath.Join(opts.Root, ".cache", "render", opts.Stack)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	nodes, err := preview.Render(ctx, opts)
	if err != nil {
		return err
	}
	// The operator's own parameters (the HTTPS certificate and key) get one
	// test pair for the whole stack, as one certificate serves every node.
	external, err := testCertificate()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for _, n := range nodes {
		dir := filepath.Join(out, n.Zone)
		files := map[string]string{
			"user-data.sh": n.UserData,
			"edge.env":     n.Parameters[n.ConfigParameter],
		}
		var index strings.Builder
		names := make([]string, 0, len(n.Parameters))
		for name := range n.Parameters {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			files[filepath.Join("ssm", name)] = n.Parameters[name]
			fmt.Fprintf(&index, "%s\tstack\n", name)
		}
		for _, name := range n.External {
			value, ok := external[filepath.Base(name)]
			if !ok {
				return fmt.Errorf("zone %s reads %s, which the stack does not create and render has no test value for", n.Zone, name)
			}
			files[filepath.Join("ssm", name)] = value
			fmt.Fprintf(&index, "%s\ttest-value\n", name)
		}
		files["PARAMETERS"] = index.String()
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				return err
			}
		}
		fmt.Printf("%s: user-data.sh, edge.env and %d SSM parameters (%d test values for the operator's own)\n",
			dir, len(n.Parameters)+len(n.External), len(n.External))
	}
	fmt.Fprintf(os.Stderr, "zonecast-render: stack %s: %d zones in %.1fs\n", opts.Stack, len(nodes), time.Since(start).Seconds())
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// testCertificate is a self-signed HTTPS certificate and key, by the
// parameter names the boot script reads them from.
func testCertificate() (map[string]string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "zonecast render test certificate"},
		DNSNames:     []string{"localhost", "origin.preview.invalid"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"cert.pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"key.pem":  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
	}, nil
}
