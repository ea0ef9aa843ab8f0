package midi

import (
	"fmt"
	"math"
)

// Config is the MIDI section of config.yaml.
type Config struct {
	// Device is the raw MIDI device to read, "" for the first present, or
	// "off".
	Device string `yaml:"device"`
	// Controls map a control change to a live parameter.
	Controls []Control `yaml:"controls"`
	// Notes map a note to a preset.
	Notes []Note `yaml:"notes"`
}

// Control drives the live parameter Param with controller CC: its 0..127
// is mapped linearly onto Min..Max (Min > Max turns the knob around).
type Control struct {
	CC      int     `yaml:"cc"`      // 0..119 (120..127 are channel mode messages)
	Channel int     `yaml:"channel"` // 1..16, or 0 for any
	Param   string  `yaml:"param"`   // a live parameter, as OSC and the panel name it
	Min     float64 `yaml:"min"`
	Max     float64 `yaml:"max"`
}

// Note recalls the preset Preset when note Note is played.
type Note struct {
	Note    int    `yaml:"note"`    // 0..127 (60 is middle C)
	Channel int    `yaml:"channel"` // 1..16, or 0 for any
	Preset  string `yaml:"preset"`
}

// Validate reports the first bad value, naming its key (midi.controls[2].cc).
func (c Config) Validate() error {
	type key struct{ kind, n, ch int }
	seen := map[key]string{}
	clash := func(k key, at string) error {
		// channel 0 (any) clashes with every channel of the same number
		for ch := 0; ch <= 16; ch++ {
			if ch != k.ch && k.ch != 0 && ch != 0 {
				continue
			}
			if prev, ok := seen[key{k.kind, k.n, ch}]; ok {
				return fmt.Errorf("%s: the same as %s; each control and note may be mapped once per channel", at, prev)
			}
		}
		seen[k] = at
		return nil
	}
	for i, m := range c.Controls {
		at := fmt.Sprintf("midi.controls[%d]", i)
		switch {
		case m.CC < 0 || m.CC > 119:
			return fmt.Errorf("%s.cc: %d; expected 0..119", at, m.CC)
		case m.Channel < 0 || m.Channel > 16:
			return fmt.Errorf("%s.channel: %d; expected 1..16, or 0 for any", at, m.Channel)
		case m.Param == "":
			return fmt.Errorf("%s.param: empty; expected a live parameter's name", at)
		case math.IsNaN(m.Min) || math.IsInf(m.Min, 0):
			return fmt.Errorf("%s.min: %v; expected a number", at, m.Min)
		case math.IsNaN(m.Max) || math.IsInf(m.Max, 0):
			return fmt.Errorf("%s.max: %v; expected a number", at, m.Max)
		case m.Min == m.Max:
			return fmt.Errorf("%s: min and max are both %v; expected a range", at, m.Min)
		}
		if err := clash(key{0, m.CC, m.Channel}, at); err != nil {
			return err
		}
	}
	for i, n := range c.Notes {
		at := fmt.Sprintf("midi.notes[%d]", i)
		switch {
		case n.Note < 0 || n.Note > 127:
			return fmt.Errorf("%s.note: %d; expected 0..127", at, n.Note)
		case n.Channel < 0 || n.Channel > 16:
			return fmt.Errorf("%s.channel: %d; expected 1..16, or 0 for any", at, n.Channel)
		case n.Preset == "":
			return fmt.Errorf("%s.preset: empty; expected a preset's name", at)
		}
		if err := clash(key{1, n.Note, n.Channel}, at); err != nil {
			return err
		}
	}
	return nil
}

// Check reports the first control naming a parameter that isParam does not
// know, or note naming a preset that isPreset does not know. The owner of
// the pipeline calls it with its own registries, which this package cannot
// see.
func (c Config) Check(isParam, isPreset func(string) bool) error {
	for i, m := range c.Controls {
		if isParam != nil && !isParam(m.Param) {
			return fmt.Errorf("midi.controls[%d].param: %q is not a live parameter", i, m.Param)
		}
	}
	for i, n := range c.Notes {
		if isPreset != nil && !isPreset(n.Preset) {
			return fmt.Errorf("midi.notes[%d].preset: %q is not a preset", i, n.Preset)
		}
	}
	return nil
}

// Action is what a message asks of the piece.
type Action struct {
	Param  string  // set this live parameter to Value, when not ""
	Value  float64 //
	Preset string  // recall this preset, when not ""
}

// Mapping looks messages up in tables built once, so mapping a message
// allocates nothing.
type Mapping struct {
	controls [16][120]int32 // 1 + index into cfg.Controls, 0 for none
	notes    [16][128]int32
	cfg      Config
}

// NewMapping builds the lookup tables for a valid config.
func NewMapping(cfg Config) (*Mapping, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Mapping{cfg: cfg}
	for i, c := range cfg.Controls {
		for ch := range 16 {
			if c.Channel == 0 && m.controls[ch][c.CC] == 0 || c.Channel == ch+1 {
				m.controls[ch][c.CC] = int32(i + 1)
			}
		}
	}
	for i, n := range cfg.Notes {
		for ch := range 16 {
			if n.Channel == 0 && m.notes[ch][n.Note] == 0 || n.Channel == ch+1 {
				m.notes[ch][n.Note] = int32(i + 1)
			}
		}
	}
	return m, nil
}

// Map returns what msg asks for: a control change sets its parameter, a
// note on recalls its preset. ok is false for anything unmapped.
func (m *Mapping) Map(msg Message) (a Action, ok bool) {
	ch := msg.Channel & 0x0F
	switch msg.Kind {
	case ControlChange:
		if msg.Data1 >= 120 {
			return a, false
		}
		i := m.controls[ch][msg.Data1]
		if i == 0 {
			return a, false
		}
		c := &m.cfg.Controls[i-1]
		v := float64(min(msg.Data2, 127)) / 127
		return Action{Param: c.Param, Value: c.Min + v*(c.Max-c.Min)}, true
	case NoteOn:
		i := m.notes[ch][msg.Data1&0x7F]
		if i == 0 {
			return a, false
		}
		return Action{Preset: m.cfg.Notes[i-1].Preset}, true
	}
	return a, false
}
