package events

import (
	"errors"
	"testing"
	"time"
)

func TestSignature(t *testing.T) {
	secret := []byte("a-webhook-secret")
	body := []byte(`{"id":"evt_1","type":"stream.live"}`)
	at := time.Unix(1767225600, 0)
	good := Sign(secret, at, body)
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		secret []byte
		now    time.Time
		err    error
	}{
		{"valid", good, body, secret, at, nil},
		{"valid within tolerance", good, body, secret, at.Add(4 * time.Minute), nil},
		{"valid with a second, rotated-out signature", good + ",v1=00ff", body, secret, at, nil},
		{"spaces after commas", "t=1767225600, v1=" + good[len("t=1767225600,v1="):], body, secret, at, nil},
		{"body changed", good, []byte(`{"id":"evt_1","type":"stream.idle"}`), secret, at, ErrSignatureWrong},
		{"other secret", good, body, []byte("another"), at, ErrSignatureWrong},
		{"timestamp changed", "t=1767225601" + good[len("t=1767225600"):], body, secret, at, ErrSignatureWrong},
		{"replayed late", good, body, secret, at.Add(6 * time.Minute), ErrSignatureStale},
		{"from the future", good, body, secret, at.Add(-6 * time.Minute), ErrSignatureStale},
		{"no v1", "t=1767225600", body, secret, at, ErrSignatureFormat},
		{"no t", good[len("t=1767225600,"):], body, secret, at, ErrSignatureFormat},
		{"garbage", "sha256=abc", body, secret, at, ErrSignatureFormat},
		{"empty", "", body, secret, at, ErrSignatureFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.header, tc.body, tc.secret, 5*time.Minute, tc.now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Verify(%q) = %v, want %v", tc.header, err, tc.err)
			}
		})
	}
}

// TestSignatureReference pins the signature to a value computed outside
// Go, so a receiver in any language can check its implementation:
//
//	printf '%s' '1767225600.{"id":"evt_1"}' | openssl dgst -sha256 -hmac a-webhook-secret
func TestSignatureReference(t *testing.T) {
	got := Sign([]byte("a-webhook-secret"), time.Unix(1767225600, 0), []byte(`{"id":"evt_1"}`))
	const want = "t=1767225600,v1=0079a3479d27286d289296954c945f4374d5426a59fa06c5b2a070ac9291ca84"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
