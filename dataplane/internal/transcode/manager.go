package transcode

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Manager is a node's transcoding: the encoder probe, the capacity and
// every stream's Transcoder.
type Manager struct {
	cfg     config.Transcode
	segment time.Duration
	log     *slog.Logger

	results  []ProbeResult
	choice   ProbeResult
	chosen   bool
	reason   string
	settings Settings
	capacity *Capacity
	rtf      float64

	mu          sync.Mutex
	transcoders map[string]*Transcoder
	calibrating chan struct{}
}

// NewManager prepares transcoding with the packager's segment duration
// (the keyframe grid). Start probes the encoders.
func NewManager(cfg config.Transcode, segment time.Duration, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{
		cfg:         cfg,
		segment:     segment,
		log:         log.With("component", "transcode"),
		capacity:    NewCapacity(0, "no encoder"),
		transcoders: map[string]*Transcoder{},
	}
}

// ProberFor returns the probe the configuration describes.
func ProberFor(cfg config.Transcode) Prober {
	return Prober{FFmpeg: cfg.FFmpeg, Timeout: cfg.ProbeTimeout, VAAPIDevice: cfg.VAAPIDevice, Preset: cfg.Preset}
}

// Start probes the candidates, chooses the encoder, logs the choice and
// estimates capacity (libx264's calibration runs in the background; until
// it ends the node carries one ladder). Without any encoder it returns an
// error and every stream stays source-only.
func (m *Manager) Start(ctx context.Context) error {
	m.results = ProberFor(m.cfg).Probe(ctx, m.cfg.Encoders)
	for _, r := range m.results {
		if r.OK {
			m.log.Info("encoder probe", "encoder", r.Encoder, "result", "ok", "reason", r.Reason, "took", r.Took.Round(time.Millisecond))
		} else {
			m.log.Info("encoder probe", "encoder", r.Encoder, "result", "refused", "reason", r.Reason, "took", r.Took.Round(time.Millisecond))
		}
	}
	choice, err := Choose(m.results)
	if err != nil {
		m.reason = err.Error()
		m.log.Error("transcoding unavailable: streams are published source-only", "err", err)
		return err
	}
	m.choice, m.chosen = choice, true
	m.reason = choiceReason(m.results, choice)
	m.log.Info("encoder chosen", "encoder", choice.Encoder, "reason", m.reason)

	bin, _ := exec.LookPath(m.cfg.FFmpeg)
	ab, _ := config.ParseBitrate(m.cfg.AudioBitrate)
	m.settings = Settings{
		FFmpeg:       bin,
		Encoder:      choice,
		Preset:       m.cfg.Preset,
		VAAPIDevice:  m.cfg.VAAPIDevice,
		Ladder:       m.cfg.Ladder,
		AudioAlways:  m.cfg.Audio == config.TranscodeAudioAAC,
		AudioBitrate: ab,
		Segment:      m.segment,
		StallTimeout: m.cfg.StallTimeout,
		StartTimeout: m.cfg.StartTimeout,
		MaxLag:       m.cfg.MaxLag,
		RestartMin:   m.cfg.RestartMin,
		RestartMax:   m.cfg.RestartMax,
		BehindLimit:  m.cfg.BehindLimit,
		DemoteFor:    m.cfg.DemoteFor,
		QueueBytes:   m.cfg.QueueBytes,
	}
	m.estimateCapacity(ctx)
	return nil
}

// choiceReason explains the choice: which candidates came before it and
// why they were refused.
func choiceReason(results []ProbeResult, choice ProbeResult) string {
	var refused []string
	for _, r := range results {
		if r.Encoder == choice.Encoder {
			break
		}
		refused = append(refused, r.Encoder+": "+r.Reason)
	}
	if len(refused) == 0 {
		return "first candidate; " + choice.Reason
	}
	return "first to open (" + strings.Join(refused, "; ") + ")"
}

func (m *Manager) estimateCapacity(ctx context.Context) {
	c := m.capacity
	if m.cfg.Capacity > 0 {
		c.SetTotal(m.cfg.Capacity, "configured (transcode.capacity)")
		m.logCapacity()
		return
	}
	switch m.choice.Family {
	case FamilyNVENC:
		n, basis := nvencCapacity(ctx, m.cfg.Ladder)
		c.SetTotal(n, basis)
	case FamilySoftware:
		if m.cfg.Calibrate <= 0 {
			n := max(runtime.NumCPU()/2, 1)
			c.SetTotal(n, fmt.Sprintf("libx264: assumed one ladder per two cores (%d cores; calibration off)", runtime.NumCPU()))
			break
		}
		c.SetTotal(1, "libx264: calibrating (one ladder until measured)")
		m.calibrating = make(chan struct{})
		go func() {
			defer close(m.calibrating)
			plan := Plan{Candidate: candidateOf(m.choice), Preset: m.cfg.Preset, Grid: gridParams{Segment: m.segment},
				Outputs: SelectOutputs(m.cfg.Ladder, SourceInfo{Width: 1920, Height: 1080})}
			cal, err := Calibrate(ctx, m.settings.FFmpeg, plan, m.cfg.Calibrate)
			if err != nil {
				m.log.Warn("libx264 calibration failed: keeping one ladder", "err", err)
				c.SetTotal(1, "libx264: calibration failed, one ladder")
				return
			}
			n, basis := softwareCapacity(cal, m.cfg.Preset)
			m.mu.Lock()
			m.rtf = cal.RealTimeFactor
			m.mu.Unlock()
			c.SetTotal(n, basis)
			m.logCapacity()
		}()
		return
	default:
		c.SetTotal(4, string(m.choice.Family)+": no model table, four ladders assumed: set transcode.capacity")
	}
	m.logCapacity()
}

func (m *Manager) logCapacity() {
	r := m.capacity.Report()
	m.log.Info("transcode capacity", "ladders", r.Total, "basis", r.Basis)
}

// WaitCalibrated blocks until a running calibration ends (tests, benchmarks).
func (m *Manager) WaitCalibrated() {
	if m.calibrating != nil {
		<-m.calibrating
	}
}

// Encoders returns every probe result, in probe order.
func (m *Manager) Encoders() []ProbeResult { return append([]ProbeResult(nil), m.results...) }

// Encoder returns the chosen encoder and why, or ok=false.
func (m *Manager) Encoder() (ProbeResult, string, bool) { return m.choice, m.reason, m.chosen }

// Capacity reports total, used and free ladders.
func (m *Manager) Capacity() CapacityReport {
	r := m.capacity.Report()
	r.Encoder = m.choice.Encoder
	return r
}

// NewTranscoder starts the transcoder of a stream; its renditions come from
// out. ladder is the stream's own (nil or empty: the configured one), and
// its cost against the configured ladder is what it takes of the capacity.
// Without an encoder it returns nil (the stream stays source-only).
func (m *Manager) NewTranscoder(stream string, ladder config.Ladder, out Outputs) *Transcoder {
	if !m.chosen {
		return nil
	}
	set := m.settings
	if len(ladder) > 0 {
		set.Ladder = ladder
	}
	t := newTranscoder(stream, set, out, m.capacity.For(set.Ladder, m.settings.Ladder), m.log)
	m.mu.Lock()
	if old := m.transcoders[stream]; old != nil {
		m.mu.Unlock()
		old.Close()
		m.mu.Lock()
	}
	m.transcoders[stream] = t
	m.mu.Unlock()
	return t
}

// Transcoders lists the running transcoders by stream name.
func (m *Manager) Transcoders() []*Transcoder {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Transcoder, 0, len(m.transcoders))
	for _, t := range m.transcoders {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Close stops every transcoder.
func (m *Manager) Close() {
	for _, t := range m.Transcoders() {
		t.Close()
	}
	m.mu.Lock()
	m.transcoders = map[string]*Transcoder{}
	m.mu.Unlock()
}

// Forget drops t from the transcoders listed, once its stream closed it
// (a ladder change, or a stream that no longer transcodes).
func (m *Manager) Forget(stream string, t *Transcoder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.transcoders[stream] == t {
		delete(m.transcoders, stream)
	}
}
