package relaytls

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// certsScript makes material with the repository's own scripts/certs.sh,
// as an operator would.
func certsScript(t *testing.T, dir string) Material {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("scripts/certs.sh needs openssl (apt-get install openssl): %v", err)
	}
	out, err := exec.Command("bash", "../../scripts/certs.sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/certs.sh: %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return Material{CA: read("ca.pem"), Cert: read("node.pem"), Key: read("node-key.pem")}
}

func TestValidate(t *testing.T) {
	gen, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	script := certsScript(t, t.TempDir())
	now := time.Now()
	tests := []struct {
		name string
		m    Material
		at   time.Time
		want string // "" = valid
	}{
		{"generated", gen, now, ""},
		{"scripts/certs.sh", script, now, ""},
		{"key of another certificate", Material{gen.CA, gen.Cert, other.Key}, now, "private key"},
		{"certificate of another CA", Material{gen.CA, other.Cert, other.Key}, now, "relay certificate"},
		{"node certificate as CA", Material{gen.Cert, gen.Cert, gen.Key}, now, "not a CA"},
		{"expired", gen, now.Add(2 * 365 * 24 * time.Hour), "relay certificate"},
		{"not PEM", Material{"ca", gen.Cert, gen.Key}, now, "zonecast:relayCa is not a PEM"},
		{"key as certificate", Material{gen.CA, gen.Key, gen.Key}, now, "zonecast:relayCert is not a PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate(tt.at)
			if tt.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestValidateRefusesCertificateWithoutPeerName: a node certificate the
// CA signed for another name would pass the CA check and still be refused
// by every peer.
func TestValidateRefusesCertificateWithoutPeerName(t *testing.T) {
	dir := t.TempDir()
	m := certsScript(t, dir)
	// A second node certificate from the same CA, for a name only.
	cmd := exec.Command("openssl", "req", "-new", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-subj", "/CN=other", "-addext", "subjectAltName=DNS:other", "-addext", "extendedKeyUsage=serverAuth,clientAuth",
		"-CA", filepath.Join(dir, "ca.pem"), "-CAkey", filepath.Join(dir, "ca-key.pem"), "-days", "30",
		"-keyout", filepath.Join(dir, "other-key.pem"), "-out", filepath.Join(dir, "other.pem"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	cert, _ := os.ReadFile(filepath.Join(dir, "other.pem"))
	key, _ := os.ReadFile(filepath.Join(dir, "other-key.pem"))
	err := Material{CA: m.CA, Cert: string(cert), Key: string(key)}.Validate(time.Now())
	if err == nil || !strings.Contains(err.Error(), PeerName) {
		t.Fatalf("got %v, want a refusal naming %s", err, PeerName)
	}
}
