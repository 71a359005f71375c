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
	// Record writes the stream to the recording bucket (recording.bucket).
	Record bool `yaml:"record"`
}

// Streams is the list of configured streams. In YAML it is a list of
// {name, passphrase, record}; as a flag or environment variable it is
// written name[+record][:passphrase],name2... (UnmarshalText). The option
// rides on the name because a name cannot hold "+" while a passphrase may
// hold anything, colons included.
type Streams []Stream

// recordOption marks a recorded stream in the flag form.
const recordOption = "+record"

// UnmarshalText parses the flag/env form.
func (s *Streams) UnmarshalText(b []byte) error {
	var out Streams
	for _, item := range strings.Split(string(b), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, pass, _ := strings.Cut(item, ":")
		name, record := strings.CutSuffix(name, recordOption)
		if name == "" {
			return fmt.Errorf("stream %q: empty name", item)
		}
		if strings.Contains(name, "+") {
			return fmt.Errorf("stream %q: unknown option (the only one is %s)", item, recordOption)
		}
		out = append(out, Stream{Name: name, Passphrase: pass, Record: record})
	}
	*s = out
	return nil
}

// MarshalText writes the flag/env form with passphrases hidden.
func (s Streams) MarshalText() ([]byte, error) {
	parts := make([]string, len(s))
	for i, st := range s {
		parts[i] = st.Name
		if st.Record {
			parts[i] += recordOption
		}
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
