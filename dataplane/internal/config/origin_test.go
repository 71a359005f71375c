package config

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// The origin section: off by default (the contract config keeps working),
// set from the file, a flag or a variable, and validated.
func TestOriginSection(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		args    []string
		env     map[string]string
		header  string
		secrets []string
		err     string
	}{
		{name: "default: no check", yaml: contractYAML, header: "X-Origin-Secret"},
		{name: "file", yaml: contractYAML + "origin: {secret_header: X-CDN-Key, secrets: [\"current-secret-value\", \"previous-secret-value\"]}\n",
			header: "X-CDN-Key", secrets: []string{"current-secret-value", "previous-secret-value"}},
		{name: "variable (the env file provision renders)", yaml: contractYAML, env: map[string]string{"ZONECAST_ORIGIN_SECRETS": "current-secret-value,previous-secret-value"},
			header: "X-Origin-Secret", secrets: []string{"current-secret-value", "previous-secret-value"}},
		{name: "flag", yaml: contractYAML, args: []string{"-origin.secrets", "current-secret-value"},
			header: "X-Origin-Secret", secrets: []string{"current-secret-value"}},
		{name: "bad header name", yaml: contractYAML + "origin: {secret_header: \"X Origin\"}\n", err: "origin.secret_header"},
		{name: "secret with a space", yaml: contractYAML + "origin: {secrets: [\"two words\"]}\n", err: "origin.secrets[0]"},
		{name: "empty secret", yaml: contractYAML + "origin: {secrets: [\"\"]}\n", err: "origin.secrets[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(append([]string{"-config", writeFile(t, tc.yaml)}, tc.args...), envOf(tc.env), &bytes.Buffer{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error about %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Origin.SecretHeader != tc.header || !slices.Equal(cfg.Origin.Secrets, tc.secrets) {
				t.Fatalf("origin %+v, want header %q secrets %q", cfg.Origin, tc.header, tc.secrets)
			}
		})
	}
}
