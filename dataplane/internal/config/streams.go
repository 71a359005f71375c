package config

import (
	"fmt"
	"strings"
)

// Stream is one stream this node accepts publishers for.
type Stream struct {
	Name string `yaml:"name"`
	// Passphrase enables AES encryption (10–80 characters). The publisher
	// chooses the key length (pbkeylen 16, 24 or 32), as with libsrt
	// listeners. Empty: the stream only accepts unencrypted publishers.
	Passphrase string `yaml:"passphrase"`
	// Record keeps the stream in the region's recording bucket. The flag
	// form cannot say it: a recorded stream needs the YAML file.
	Record bool `yaml:"record"`
}

// Streams is the list of configured streams. In YAML it is a list of
// {name, passphrase, record}; as a flag or environment variable it is written
// name[:passphrase],name2[:passphrase2] (UnmarshalText).
type Streams []Stream

// UnmarshalText parses the flag/env form.
func (s *Streams) UnmarshalText(b []byte) error {
	var out Streams
	for _, item := range strings.Split(string(b), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, pass, _ := strings.Cut(item, ":")
		if name == "" {
			return fmt.Errorf("stream %q: empty name", item)
		}
		out = append(out, Stream{Name: name, Passphrase: pass})
	}
	*s = out
	return nil
}

// MarshalText writes the flag/env form with passphrases hidden.
func (s Streams) MarshalText() ([]byte, error) {
	parts := make([]string, len(s))
	for i, st := range s {
		parts[i] = st.Name
		if st.Passphrase != "" {
			parts[i] += ":***"
		}
	}
	return []byte(strings.Join(parts, ",")), nil
}

// Find returns the configured stream called name.
func (s Streams) Find(name string) (Stream, bool) {
	for _, st := range s {
		if st.Name == name {
			return st, true
		}
	}
	return Stream{}, false
}
