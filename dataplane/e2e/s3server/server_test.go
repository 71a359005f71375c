package s3server

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The harness serves objects, refuses them while stopped, and serves the
// same data after a restart on the same endpoint.
func TestStopRestart(t *testing.T) {
	s := StartT(t, "rec")
	c := s.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	put := func(key, body string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body))})
		return err
	}
	get := func(key string) (string, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}

	steps := []struct {
		name    string
		do      func()
		key     string
		body    string
		wantErr bool
	}{
		{"up", func() {}, "a/b/one", "first", false},
		{"stopped", s.Stop, "a/b/two", "second", true},
		{"restarted", func() {
			if err := s.Restart(); err != nil {
				t.Fatal(err)
			}
		}, "a/b/three", "third", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			err := put(st.key, st.body)
			if (err != nil) != st.wantErr {
				t.Fatalf("put %s: err %v, want error %v", st.key, err, st.wantErr)
			}
			if st.wantErr {
				if s.Running() {
					t.Fatal("Running() true after Stop")
				}
				return
			}
			got, err := get(st.key)
			if err != nil || got != st.body {
				t.Fatalf("get %s: %q %v, want %q", st.key, got, err, st.body)
			}
		})
	}
	// What was written before the outage survived it.
	if got, err := get("a/b/one"); err != nil || got != "first" {
		t.Fatalf("after restart: %q %v", got, err)
	}
}

// A missing binary is an error that names the make target building it.
func TestMissingBinary(t *testing.T) {
	cases := []struct {
		name  string
		env   string
		chdir bool // into a repository without bin/versitygw
	}{
		{"VERSITYGW_BIN points nowhere", "/nonexistent/versitygw", false},
		{"not built at the repository root", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VERSITYGW_BIN", tc.env)
			if tc.chdir {
				repo := t.TempDir()
				if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Chdir(repo)
			}
			_, err := Binary()
			if err == nil || !strings.Contains(err.Error(), "make versitygw") {
				t.Fatalf("err %v, want it to name `make versitygw`", err)
			}
			if _, err := Start(t.TempDir(), "b"); err == nil || !strings.Contains(err.Error(), "make versitygw") {
				t.Fatalf("Start: err %v", err)
			}
		})
	}
}
