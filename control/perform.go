package control

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"reverie/control/midi"
)

// SoundStats is the sound input's state (audio.Section and audio.Live).
type SoundStats struct {
	Source string  `json:"source"`           // off, device, device "USB", file PATH
	State  string  `json:"state"`            // off, starting, listening or lost
	Device string  `json:"device,omitempty"` // the device heard
	Err    string  `json:"error,omitempty"`  // why it is lost
	Level  float64 `json:"level"`            // 0..1
	Low    float64 `json:"low"`
	Mid    float64 `json:"mid"`
	High   float64 `json:"high"`
	BPM    float64 `json:"bpm"`    // 0 until a tempo is heard
	Onsets uint64  `json:"onsets"` // since the input opened
}

// MIDIStats is the MIDI input's state for /api/status and GET /api/midi.
type MIDIStats struct {
	midi.Status
	Last    *midi.Seen     `json:"last,omitempty"` // the last control change read
	Learned []midi.Control `json:"learned"`        // bound by MIDI learn since the start
	// YAML is the learned controls as midi.controls entries, to paste
	// into config.yaml: learn keeps them only until the piece stops.
	YAML string `json:"yaml,omitempty"`
}

// SetSound shows the sound input in /api/status and /metrics.
func (s *Server) SetSound(stats func() SoundStats) {
	s.mu.Lock()
	s.sound = stats
	s.mu.Unlock()
	gauge := func(name, help string, f func(SoundStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	for _, c := range []prometheus.Collector{
		gauge("reverie_sound_ok", "1 while the sound input is heard (audio.source).", func(st SoundStats) float64 { return b2f(st.State == "listening") }),
		gauge("reverie_sound_level", "Sound level, 0..1 (RMS).", func(st SoundStats) float64 { return st.Level }),
		gauge("reverie_sound_bpm", "Tempo heard, beats per minute; 0 until one is.", func(st SoundStats) float64 { return st.BPM }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_sound_onsets_total", Help: "Onsets heard since the sound input opened."}, func() float64 { return float64(stats().Onsets) }),
	} {
		_ = s.metrics.reg.Register(c)
	}
}

// SetMIDI serves the MIDI input's state and MIDI learn, and shows it in
// /api/status and /metrics.
func (s *Server) SetMIDI(in *midi.Input) {
	s.mu.Lock()
	s.midi = in
	s.mu.Unlock()
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "reverie_midi_ok", Help: "1 while the MIDI device is read (midi.device)."}, func() float64 { return b2f(in.Status().State == "listening") }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_midi_messages_total", Help: "MIDI messages read."}, func() float64 { return float64(in.Status().Messages) }),
	} {
		_ = s.metrics.reg.Register(c)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) soundStats() *SoundStats {
	s.mu.Lock()
	f := s.sound
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	st := f()
	return &st
}

func (s *Server) midiInput() *midi.Input {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.midi
}

func (s *Server) midiStats() *MIDIStats {
	in := s.midiInput()
	if in == nil {
		return nil
	}
	st := &MIDIStats{Status: in.Status(), Learned: in.Learned()}
	if last, ok := in.Last(); ok {
		st.Last = &last
	}
	var b strings.Builder
	for _, k := range st.Learned {
		b.WriteString(k.YAML())
		b.WriteByte('\n')
	}
	st.YAML = b.String()
	return st
}

func (s *Server) handleMIDI(w http.ResponseWriter, r *http.Request) {
	st := s.midiStats()
	if st == nil {
		st = &MIDIStats{Status: midi.Status{State: "off"}, Learned: []midi.Control{}}
	}
	writeJSON(w, http.StatusOK, st)
}

// handleMIDILearn binds the knob or fader moved last to a parameter, over
// the parameter's whole range: {"param": "warp.zoom"}.
func (s *Server) handleMIDILearn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Param string `json:"param"`
	}
	if err := readJSON(r, &body); err != nil {
		s.badBody(w, r, err)
		return
	}
	in := s.midiInput()
	if in == nil {
		httpError(w, http.StatusConflict, "MIDI is off: set midi.device in config.yaml")
		return
	}
	var p *ParamInfo
	for _, q := range s.eng.List() {
		if q.Name == body.Param {
			p = &q
			break
		}
	}
	if p == nil {
		s.badRequest(w, r, fmt.Sprintf("unknown parameter %q; GET /api/params lists them", body.Param))
		return
	}
	k, err := in.Learn(p.Name, p.Min, p.Max)
	if err != nil {
		httpError(w, http.StatusConflict, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"control": k, "yaml": k.YAML()})
}
