package config

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// Size is a number of bytes written the way people write them: "2GiB",
// "512MB", "1048576".
type Size int64

// UnmarshalText parses a size (go-humanize's units: B, kB/KiB, MB/MiB, ...).
func (s *Size) UnmarshalText(b []byte) error {
	n, err := humanize.ParseBytes(string(b))
	if err != nil {
		return fmt.Errorf("size %q: %w", b, err)
	}
	if n > 1<<62 {
		return fmt.Errorf("size %q is too large", b)
	}
	*s = Size(n)
	return nil
}

// MarshalText writes the size in binary units ("2.0 GiB").
func (s Size) MarshalText() ([]byte, error) {
	return []byte(humanize.IBytes(uint64(s))), nil
}
