package catalog

import (
	"errors"
	"strings"
)

// The stores' and the resolver's answers that callers act on.
var (
	ErrNotFound = errors.New("no such stream")
	ErrExists   = errors.New("stream name taken")
	// ErrVersion: the stream changed since the version the update names.
	ErrVersion = errors.New("stream changed since it was read")
	// ErrReadOnly: the streams: list is changed by editing the configuration.
	ErrReadOnly = errors.New("the streams: list is read-only (configure catalog.dynamodb to manage streams)")
	// ErrUnavailable: the catalog could not be read and the node does not
	// know the stream from before.
	ErrUnavailable = errors.New("catalog unreachable")
	// ErrThrottled: too many lookups of names this node does not know;
	// the publisher's retry is answered once the budget refills.
	ErrThrottled = errors.New("too many lookups of unknown streams")
)

// FieldError is one invalid field, named as in the API's JSON.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// Invalid lists every invalid field of a stream.
type Invalid []FieldError

func (v Invalid) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "invalid stream: " + strings.Join(parts, "; ")
}
