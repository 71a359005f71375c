package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

var tables atomic.Int64

// newTable returns a store on a fresh table of server (created by the
// store, as create_table does).
func newTable(t *testing.T, server *dynalite.Server) *DynamoDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := NewDynamoDB(ctx, config.CatalogDynamoDB{
		Table:       fmt.Sprintf("streams-%d", tables.Add(1)),
		Region:      "local",
		Endpoint:    server.Endpoint(),
		CreateTable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDynamoDBCRUD(t *testing.T) {
	ctx := context.Background()
	d := newTable(t, dynalite.StartT(t))
	full := Stream{
		Name: "match-1", Passphrase: "correct-horse-battery", BackupPassphrase: "second-encoder-key",
		Ladder: "480p:1.5M,720p:3M", Latency: LatencyStandard, Record: true,
		Labels: map[string]string{"home": "ARS", "away": "CHE"},
	}
	created, err := d.Create(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	if created.Version != 1 || created.Created.IsZero() || !created.Created.Equal(created.Updated) || created.Ladder != "720p:3000k,480p:1500k" {
		t.Fatalf("created %+v", created)
	}

	steps := []struct {
		name  string
		do    func() (Stream, error)
		check func(Stream) error
		err   error
	}{
		{"get returns what was created", func() (Stream, error) { return d.Get(ctx, "match-1") }, func(s Stream) error {
			if s.Passphrase != full.Passphrase || s.BackupPassphrase != full.BackupPassphrase || s.Ladder != created.Ladder ||
				s.Latency != LatencyStandard || !s.Record || s.Labels["home"] != "ARS" || s.Version != 1 || !s.Created.Equal(created.Created) {
				return fmt.Errorf("got %+v, want %+v", s, created)
			}
			return nil
		}, nil},
		{"minimal create takes the defaults", func() (Stream, error) { return d.Create(ctx, Stream{Name: "open"}) }, func(s Stream) error {
			if s.Latency != LatencyLow || s.Passphrase != "" || s.Labels != nil {
				return fmt.Errorf("got %+v", s)
			}
			return nil
		}, nil},
		{"a taken name", func() (Stream, error) { return d.Create(ctx, Stream{Name: "match-1"}) }, nil, ErrExists},
		{"an invalid stream is not written", func() (Stream, error) { return d.Create(ctx, Stream{Name: "bad/name"}) }, nil, Invalid{}},
		{"get of a missing name", func() (Stream, error) { return d.Get(ctx, "nope") }, nil, ErrNotFound},
		{"update at the read version", func() (Stream, error) {
			s := created
			s.Record, s.Ladder, s.Labels, s.BackupPassphrase = false, LadderSource, nil, ""
			return d.Update(ctx, s)
		}, func(s Stream) error {
			if s.Version != 2 || s.Record || s.Ladder != LadderSource || s.Labels != nil || s.BackupPassphrase != "" ||
				!s.Created.Equal(created.Created) || !s.Updated.After(created.Updated) {
				return fmt.Errorf("got %+v", s)
			}
			return nil
		}, nil},
		{"update at a stale version", func() (Stream, error) { return d.Update(ctx, created) }, nil, ErrVersion},
		{"update of a missing stream", func() (Stream, error) { return d.Update(ctx, Stream{Name: "nope", Latency: LatencyLow, Version: 1}) }, nil, ErrNotFound},
		{"invalid update", func() (Stream, error) { s := created; s.Version = 2; s.Latency = "fast"; return d.Update(ctx, s) }, nil, Invalid{}},
		{"rotate", func() (Stream, error) { return d.Rotate(ctx, "match-1", "a-brand-new-key") }, func(s Stream) error {
			if s.Passphrase != "a-brand-new-key" || s.Version != 3 || s.Ladder != LadderSource {
				return fmt.Errorf("got %+v", s)
			}
			return nil
		}, nil},
		{"rotate to a bad key", func() (Stream, error) { return d.Rotate(ctx, "match-1", "short") }, nil, Invalid{}},
		{"rotate a missing stream", func() (Stream, error) { return d.Rotate(ctx, "nope", "a-brand-new-key") }, nil, ErrNotFound},
		{"delete", func() (Stream, error) { return Stream{}, d.Delete(ctx, "match-1") }, nil, nil},
		{"deleted is gone", func() (Stream, error) { return d.Get(ctx, "match-1") }, nil, ErrNotFound},
		{"delete twice", func() (Stream, error) { return Stream{}, d.Delete(ctx, "match-1") }, nil, ErrNotFound},
		{"the name is free again", func() (Stream, error) { return d.Create(ctx, Stream{Name: "match-1"}) }, func(s Stream) error {
			if s.Version != 1 {
				return fmt.Errorf("got %+v", s)
			}
			return nil
		}, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s, err := st.do()
			switch want := st.err.(type) {
			case nil:
				if err != nil {
					t.Fatal(err)
				}
			case Invalid:
				if !errors.As(err, &want) {
					t.Fatalf("err %v, want Invalid", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err %v, want %v", err, want)
				}
			}
			if st.check != nil {
				if err := st.check(s); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDynamoDBRotateKeepsTheBackupDistinct: the two encoders' keys stay
// apart, as Validate demands of any write.
func TestDynamoDBRotateKeepsTheBackupDistinct(t *testing.T) {
	ctx := context.Background()
	d := newTable(t, dynalite.StartT(t))
	if _, err := d.Create(ctx, Stream{Name: "m", Passphrase: "correct-horse-battery", BackupPassphrase: "second-encoder-key"}); err != nil {
		t.Fatal(err)
	}
	_, err := d.Rotate(ctx, "m", "second-encoder-key")
	var inv Invalid
	if !errors.As(err, &inv) || inv[0].Field != "passphrase" {
		t.Fatalf("err %v, want an invalid passphrase", err)
	}
}

func TestDynamoDBList(t *testing.T) {
	ctx := context.Background()
	d := newTable(t, dynalite.StartT(t))
	const n = 25
	for i := range n {
		if _, err := d.Create(ctx, Stream{Name: fmt.Sprintf("cam%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{0, 1, 7, 25, 100} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			seen := map[string]bool{}
			cursor, pages := "", 0
			for {
				page, next, err := d.List(ctx, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				if limit > 0 && len(page) > limit {
					t.Fatalf("page of %d, limit %d", len(page), limit)
				}
				for _, s := range page {
					if seen[s.Name] {
						t.Fatalf("%s listed twice", s.Name)
					}
					seen[s.Name] = true
				}
				pages++
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seen) != n {
				t.Fatalf("listed %d streams in %d pages, want %d", len(seen), pages, n)
			}
		})
	}
}

// TestCreateTable: a missing table is created only when asked; a second
// node asking again finds it and shares it.
func TestCreateTable(t *testing.T) {
	ctx := context.Background()
	server := dynalite.StartT(t)
	c := config.CatalogDynamoDB{Table: "zonecast-streams", Region: "local", Endpoint: server.Endpoint()}

	without, err := NewDynamoDB(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.Get(ctx, "cam1"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("a missing table must be an error, not a missing stream: %v", err)
	}

	c.CreateTable = true
	first, err := NewDynamoDB(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Create(ctx, Stream{Name: "cam1"}); err != nil {
		t.Fatal(err)
	}
	second, err := NewDynamoDB(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range []*DynamoDB{without, first, second} {
		if s, err := store.Get(ctx, "cam1"); err != nil || s.Name != "cam1" {
			t.Fatalf("get through each store: %+v %v", s, err)
		}
	}
}

// TestLocalCredentials: a loopback endpoint needs no AWS variables; any
// other endpoint is left to the SDK's chain.
func TestLocalCredentials(t *testing.T) {
	cases := []struct {
		endpoint string
		local    bool
	}{
		{"http://127.0.0.1:8000", true},
		{"http://localhost:8000", true},
		{"http://[::1]:8000", true},
		{"", false},
		{"https://dynamodb.eu-west-1.amazonaws.com", false},
		{"http://10.0.0.5:8000", false},
	}
	for _, tc := range cases {
		if got := loopback(tc.endpoint); got != tc.local {
			t.Errorf("loopback(%q) = %v, want %v", tc.endpoint, got, tc.local)
		}
	}
}
