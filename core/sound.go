package core

import (
	"context"
	"log/slog"
	"sync"

	"reverie/audio"
	"reverie/control"
)

// sound owns the running sound input: none when audio.source is off. A
// device that is missing or vanishes is reported by the input itself (its
// status and one log line) and reopened; the piece runs on meanwhile.
type sound struct {
	cfg  audio.Section
	live *audio.Live // nil when off, or when it could not start
	err  string      // why it could not start

	mu    sync.Mutex // the status reader's copy
	feats audio.Features
	seq   uint64
}

// startSound starts listening as cfg says, until ctx ends.
func startSound(ctx context.Context, cfg audio.Section) *sound {
	s := &sound{cfg: cfg}
	if !cfg.On() {
		return s
	}
	live, err := cfg.Listen(slog.Default())
	if err != nil {
		s.err = err.Error()
		slog.Warn("sound input not started; the piece runs on without it", "source", cfg.String(), "err", err)
		return s
	}
	s.live = live
	go live.Run(ctx)
	return s
}

// listening says whether the input hears sound now; features from a lost
// one are stale.
func (s *sound) listening() bool {
	return s != nil && s.live != nil && s.live.Status().State == "listening"
}

// stats is the sound input's state for /api/status and /metrics.
func (s *sound) stats() control.SoundStats {
	st := control.SoundStats{Source: s.cfg.String(), State: "off"}
	switch {
	case !s.cfg.On():
		return st
	case s.live == nil:
		st.State, st.Err = "lost", s.err
		return st
	}
	ls := s.live.Status()
	st.State, st.Err, st.Device = ls.State, ls.Error, ls.Device
	if st.State != "listening" {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq, ok := s.live.Box().Latest(&s.feats, s.seq); ok {
		s.seq = seq
	}
	f := &s.feats
	st.Level, st.Low, st.Mid, st.High, st.BPM, st.Onsets = float64(f.Level), float64(f.Low), float64(f.Mid), float64(f.High), float64(f.BPM), f.Onsets
	return st
}
