package rewind

import (
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		window time.Duration
		ok     bool
	}{
		{0, true},
		{DefaultWindow, true},
		{MinWindow, true},
		{MaxWindow, true},
		{MinWindow - time.Second, false},
		{MaxWindow + time.Second, false},
		{-time.Minute, false},
	}
	for _, tc := range cases {
		if err := Validate(tc.window); (err == nil) != tc.ok {
			t.Errorf("Validate(%v) = %v, want ok=%v", tc.window, err, tc.ok)
		}
	}
}
