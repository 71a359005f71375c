package recording

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Entry kinds: a segment to upload, or the end of a recording.
const (
	kindSegment = "segment"
	kindClose   = "close"
)

// entry is one spooled item. Its file holds a 4-byte header length, the
// header (JSON), the init section (when the segment carries one) and the
// segment's bytes.
type entry struct {
	Kind    string    `json:"kind"`
	Stream  string    `json:"stream"`
	Token   uint64    `json:"token"`
	Spooled time.Time `json:"spooled"`
	// The segment (kind segment), without its bytes.
	Rendition       string        `json:"rendition,omitempty"`
	MSN             uint64        `json:"msn,omitempty"`
	Duration        time.Duration `json:"duration,omitempty"`
	ProgramDateTime time.Time     `json:"pdt,omitzero"`
	Discontinuity   bool          `json:"disc,omitempty"`
	Init            string        `json:"init,omitempty"`
	InitLen         int           `json:"init_len,omitempty"`
	DataLen         int           `json:"data_len,omitempty"`
	Codecs          []string      `json:"codecs,omitempty"`
	Resolution      string        `json:"resolution,omitempty"`
	FrameRate       float64       `json:"frame_rate,omitempty"`

	seq  uint64
	path string
	size int64 // bytes reserved in the spool
}

func (e *entry) segment() Segment {
	return Segment{
		Rendition: e.Rendition, MSN: e.MSN, Duration: e.Duration, ProgramDateTime: e.ProgramDateTime,
		Discontinuity: e.Discontinuity, Init: e.Init, Codecs: e.Codecs, Resolution: e.Resolution, FrameRate: e.FrameRate,
	}
}

// entryOverhead is what an entry's header and file cost on top of its
// media, for the spool's bound.
const entryOverhead = 512

// Spool is the bounded on-disk queue of what waits for S3: one FIFO per
// stream, so that each stream is uploaded in order, whatever the others do.
// Entries are files, so a restarted node finds what it had not sent. It is
// written by hand because the queue must be bounded in bytes and age, kept
// per stream and survive restarts, which no queue library here does.
type Spool struct {
	dir string
	max int64

	mu     sync.Mutex
	bytes  int64 // reserved: on disk or on the way
	seq    uint64
	queues map[string][]*entry
	ready  map[string]chan struct{} // signalled when a stream's queue grows
}

// OpenSpool opens (or creates) the spool in dir, holding at most max bytes,
// and loads what a previous run left there.
func OpenSpool(dir string, max int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, max: max, queues: map[string][]*entry{}, ready: map[string]chan struct{}{}}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the entries a previous run left. Unreadable ones are removed:
// a torn write at a crash is the only way to make one.
func (s *Spool) load() error {
	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		for _, f := range files {
			p := filepath.Join(s.dir, d.Name(), f.Name())
			var seq uint64
			if _, err := fmt.Sscanf(f.Name(), "%016x.entry", &seq); err != nil || !strings.HasSuffix(f.Name(), ".entry") {
				_ = os.Remove(p) // a temporary file of an interrupted write
				continue
			}
			e, err := readHeader(p)
			if err != nil {
				_ = os.Remove(p)
				continue
			}
			info, _ := f.Info()
			e.seq, e.path = seq, p
			if info != nil {
				e.size = info.Size()
			}
			s.queues[e.Stream] = append(s.queues[e.Stream], e)
			s.bytes += e.size
			s.seq = max(s.seq, seq)
		}
	}
	for _, q := range s.queues {
		sort.Slice(q, func(i, j int) bool { return q[i].seq < q[j].seq })
	}
	return nil
}

func readHeader(p string) (*entry, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var n uint32
	if err := binary.Read(br, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	if n > 1<<20 {
		return nil, errors.New("spool: header too long")
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, err
	}
	e := &entry{}
	if err := json.Unmarshal(h, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Streams lists the streams with spooled entries.
func (s *Spool) Streams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.queues))
	for st, q := range s.queues {
		if len(q) > 0 {
			out = append(out, st)
		}
	}
	sort.Strings(out)
	return out
}

// reserve claims n bytes of the bound; false when the spool is full.
func (s *Spool) reserve(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes+n > s.max {
		return false
	}
	s.bytes += n
	return true
}

// release gives back bytes reserve claimed for an entry that was dropped
// before reaching the disk.
func (s *Spool) release(n int64) {
	s.mu.Lock()
	s.bytes -= n
	s.mu.Unlock()
}

// append writes e with its bytes and queues it behind its stream's earlier
// entries. e.size must have been reserved.
func (s *Spool) append(e *entry, init, data []byte) error {
	h, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.seq++
	e.seq = s.seq
	s.mu.Unlock()
	dir := filepath.Join(s.dir, url.PathEscape(e.Stream))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	e.path = filepath.Join(dir, fmt.Sprintf("%016x.entry", e.seq))
	tmp := e.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = binary.Write(bw, binary.BigEndian, uint32(len(h)))
	for _, b := range [][]byte{h, init, data} {
		if err == nil {
			_, err = bw.Write(b)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, e.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	s.mu.Lock()
	s.queues[e.Stream] = append(s.queues[e.Stream], e)
	ch := s.readyLocked(e.Stream)
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
	return nil
}

func (s *Spool) readyLocked(stream string) chan struct{} {
	ch := s.ready[stream]
	if ch == nil {
		ch = make(chan struct{}, 1)
		s.ready[stream] = ch
	}
	return ch
}

// head returns the stream's oldest entry, and a channel signalled when the
// queue grows (for waiting while it is empty).
func (s *Spool) head(stream string) (*entry, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.readyLocked(stream)
	if q := s.queues[stream]; len(q) > 0 {
		return q[0], ch
	}
	return nil, ch
}

// body reads a spooled segment's init section and bytes.
func (s *Spool) body(e *entry) (init, data []byte, err error) {
	b, err := os.ReadFile(e.path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 4 {
		return nil, nil, errors.New("spool: truncated entry")
	}
	off := 4 + int(binary.BigEndian.Uint32(b))
	if len(b) != off+e.InitLen+e.DataLen {
		return nil, nil, fmt.Errorf("spool: entry %s has %d bytes, want %d", e.path, len(b), off+e.InitLen+e.DataLen)
	}
	return b[off : off+e.InitLen], b[off+e.InitLen:], nil
}

// remove deletes the stream's head entry e (uploaded or dropped).
func (s *Spool) remove(e *entry) {
	_ = os.Remove(e.path)
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[e.Stream]
	if len(q) > 0 && q[0] == e {
		q[0] = nil
		s.queues[e.Stream] = q[1:]
		if len(q) == 1 {
			delete(s.queues, e.Stream)
		}
	}
	s.bytes -= e.size
}

// Bytes is what the spool holds or has reserved.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Len is the number of spooled entries.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.queues {
		n += len(q)
	}
	return n
}

// Oldest is when the oldest waiting entry was spooled (zero when empty).
func (s *Spool) Oldest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t time.Time
	for _, q := range s.queues {
		if len(q) > 0 && (t.IsZero() || q[0].Spooled.Before(t)) {
			t = q[0].Spooled
		}
	}
	return t
}
