package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header carrying an event's signature.
const SignatureHeader = "Zonecast-Signature"

// Sign returns the Zonecast-Signature header value of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under secret>".
// The time is signed with the body so that a captured request cannot be
// replayed later than the receiver's tolerance.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrSignatureFormat = errors.New("malformed " + SignatureHeader + " header")
	ErrSignatureStale  = errors.New(SignatureHeader + " timestamp outside the tolerance")
	ErrSignatureWrong  = errors.New(SignatureHeader + " does not match the body")
)

// Verify checks a Zonecast-Signature header against the raw body as
// received, under secret, at now: the signature must match and its time be
// within tolerance of now. A header may carry several v1 values; one match
// is enough. Receivers written in Go can copy this function as it is (it
// needs only the standard library).
func Verify(header string, body, secret []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureFormat
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureFormat
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %v from now", ErrSignatureStale, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		// Constant time: the comparison must not tell an attacker how
		// much of a guess was right.
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignatureWrong
}
