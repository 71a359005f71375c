package cluster

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SavedState is the successor state of a stream as stored in Redis: an
// opaque blob (the packager's JSON State) plus each rendition's next media
// sequence number, kept beside it so that Redis can refuse a write that
// would make a media sequence go back.
type SavedState struct {
	Blob   []byte
	MSN    map[string]uint64
	Token  uint64 // token of the leader that wrote it
	Holder string
}

// PutState is the fenced write of a stream's successor state: it succeeds
// only while node holds the lease with token, and never lets a rendition's
// media sequence go back.
func (s *Store) PutState(ctx context.Context, stream, node string, token uint64, blob []byte, msn map[string]uint64) error {
	args := []any{node, token, blob}
	names := make([]string, 0, len(msn))
	for r := range msn {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		args = append(args, r, msn[r])
	}
	return classify(putStateScript.Run(ctx, s.rdb, []string{keyLease(stream), keyState(stream)}, args...).Err())
}

// State reads a stream's successor state; ok is false when none is stored.
func (s *Store) State(ctx context.Context, stream string) (SavedState, bool, error) {
	m, err := s.rdb.HGetAll(ctx, keyState(stream)).Result()
	if errors.Is(err, redis.Nil) || (err == nil && len(m) == 0) {
		return SavedState{}, false, nil
	}
	if err != nil {
		return SavedState{}, false, classify(err)
	}
	st := SavedState{Blob: []byte(m["blob"]), MSN: map[string]uint64{}, Holder: m["holder"]}
	st.Token, _ = strconv.ParseUint(m["token"], 10, 64)
	for k, v := range m {
		if r, ok := strings.CutPrefix(k, "msn:"); ok {
			st.MSN[r], _ = strconv.ParseUint(v, 10, 64)
		}
	}
	return st, true, nil
}
