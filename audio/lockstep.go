package audio

import (
	"fmt"
	"io"
	"math"
)

// Lockstep analyses an audio file in step with a virtual clock, for
// `reverie render -audio FILE`: the renderer asks for each output frame's
// time, and the features depend only on the file and the config, never on
// how fast the machine is. Past the end of the file it hears silence.
type Lockstep struct {
	wav    *WAV
	an     *Analyzer
	buf    []float32
	read   int64 // samples fed to the analyzer
	ended  bool
	onsets uint64
	beats  uint64
}

// OpenLockstep opens a WAV file for lockstep analysis.
func OpenLockstep(path string, cfg Config) (*Lockstep, error) {
	w, err := OpenWAV(path)
	if err != nil {
		return nil, err
	}
	l, err := NewLockstep(w, cfg)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("audio file %s: %w", path, err)
	}
	return l, nil
}

// NewLockstep analyses w in lockstep; Close closes w.
func NewLockstep(w *WAV, cfg Config) (*Lockstep, error) {
	an, err := NewAnalyzer(cfg, w.Rate())
	if err != nil {
		return nil, err
	}
	return &Lockstep{wav: w, an: an, buf: make([]float32, an.Block())}, nil
}

// At analyses the sound up to t seconds from the file's start and returns
// the features there. Onset and Beat are true when one fell since the
// previous call (at a video frame rate, on the frame that contains it).
// Times before the previous call's return the features as they are.
func (l *Lockstep) At(t float64) (Features, error) {
	target := int64(math.Floor(t * float64(l.an.Rate())))
	for l.read < target {
		k := int(min(int64(len(l.buf)), target-l.read))
		buf := l.buf[:k]
		if !l.ended {
			n, err := l.wav.Read(buf)
			switch {
			case err == io.EOF:
				l.ended = true
			case err != nil:
				return l.an.Features(), err
			}
			buf = buf[:n]
		}
		if l.ended {
			clear(buf[:k])
			buf = buf[:k]
		}
		l.an.Write(buf)
		l.read += int64(len(buf))
	}
	f := l.an.Features()
	f.Onset = f.Onsets != l.onsets
	f.Beat = f.Beats != l.beats
	l.onsets, l.beats = f.Onsets, f.Beats
	return f, nil
}

// Ended reports whether the file has run out (the analysis then hears silence).
func (l *Lockstep) Ended() bool { return l.ended }

// Duration is the file's length in seconds.
func (l *Lockstep) Duration() float64 { return l.wav.Duration() }

// Close closes the file.
func (l *Lockstep) Close() error { return l.wav.Close() }
