package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryAndDisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  bool
	}{{"memory", false}, {"memory+disk", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ""
			if tc.dir {
				dir = t.TempDir()
			}
			s, err := New(dir, "cam1")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put("source/seg1.m4s", []byte("hello")); err != nil {
				t.Fatal(err)
			}
			if err := s.Put("source/seg2.ts", []byte("world!")); err != nil {
				t.Fatal(err)
			}
			o, ok := s.Get("source/seg1.m4s")
			if !ok || string(o.Data) != "hello" || o.Name != "source/seg1.m4s" || o.ETag == "" {
				t.Fatalf("Get: %+v, %v", o, ok)
			}
			if s.Len() != 2 || s.Bytes() != 11 {
				t.Errorf("Len %d Bytes %d", s.Len(), s.Bytes())
			}
			// Same content, same ETag; other content, other ETag.
			o2, _ := s.Get("source/seg2.ts")
			if o2.ETag == o.ETag {
				t.Error("different content with the same ETag")
			}
			if tc.dir {
				b, err := os.ReadFile(filepath.Join(dir, "cam1", "source", "seg1.m4s"))
				if err != nil || string(b) != "hello" {
					t.Errorf("disk copy: %q, %v", b, err)
				}
			}
			s.Delete("source/seg1.m4s", "source/seg2.ts", "missing")
			if s.Len() != 0 || s.Bytes() != 0 {
				t.Errorf("after delete: Len %d Bytes %d", s.Len(), s.Bytes())
			}
			if tc.dir {
				if _, err := os.Stat(filepath.Join(dir, "cam1", "source", "seg1.m4s")); !os.IsNotExist(err) {
					t.Errorf("disk copy not removed: %v", err)
				}
			}
		})
	}
}

func TestBadStreamNameForDisk(t *testing.T) {
	for _, name := range []string{"", "..", "a/b", `a\b`} {
		if _, err := New(t.TempDir(), name); err == nil {
			t.Errorf("New(dir, %q) accepted", name)
		}
	}
}
