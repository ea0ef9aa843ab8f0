package midi

import (
	"fmt"
	"math"
	"strings"

	"reverie/internal/field"
)

// Config is the MIDI section of config.yaml.
type Config struct {
	// Device is the raw MIDI device to read (/dev/snd/midiC1D0), auto (or
	// "") for the first present, or off.
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

// DefaultConfig is config.yaml's midi section: off, nothing mapped.
func DefaultConfig() Config {
	return Config{Device: "off", Controls: []Control{}, Notes: []Note{}}
}

// On says whether a device is to be read.
func (c Config) On() bool { return c.Device != "off" }

// Path is the device path Open takes: "" for the first present.
func (c Config) Path() string {
	if c.Device == "auto" {
		return ""
	}
	return c.Device
}

// Validate reports the first bad value, naming its key below midi
// (controls[2].cc).
func (c Config) Validate() error {
	if c.Device != "off" && c.Device != "auto" && c.Device != "" && !strings.HasPrefix(c.Device, "/") {
		return &field.Error{Key: "device", Msg: fmt.Sprintf("%q: expected off, auto, or a raw MIDI device's path such as /dev/snd/midiC1D0", c.Device)}
	}
	type key struct{ kind, n, ch int }
	seen := map[key]string{}
	clash := func(k key, at string) error {
		// channel 0 (any) clashes with every channel of the same number
		for ch := 0; ch <= 16; ch++ {
			if ch != k.ch && k.ch != 0 && ch != 0 {
				continue
			}
			if prev, ok := seen[key{k.kind, k.n, ch}]; ok {
				return &field.Error{Key: at, Msg: fmt.Sprintf("the same as midi.%s; each control and note may be mapped once per channel", prev)}
			}
		}
		seen[k] = at
		return nil
	}
	for i, m := range c.Controls {
		at := fmt.Sprintf("controls[%d]", i)
		switch {
		case m.CC < 0 || m.CC > 119:
			return &field.Error{Key: at + ".cc", Msg: fmt.Sprintf("%d; expected 0..119", m.CC)}
		case m.Channel < 0 || m.Channel > 16:
			return &field.Error{Key: at + ".channel", Msg: fmt.Sprintf("%d; expected 1..16, or 0 for any", m.Channel)}
		case m.Param == "":
			return &field.Error{Key: at + ".param", Msg: "empty; expected a live parameter's name"}
		case math.IsNaN(m.Min) || math.IsInf(m.Min, 0):
			return &field.Error{Key: at + ".min", Msg: fmt.Sprintf("%v; expected a number", m.Min)}
		case math.IsNaN(m.Max) || math.IsInf(m.Max, 0):
			return &field.Error{Key: at + ".max", Msg: fmt.Sprintf("%v; expected a number", m.Max)}
		case m.Min == m.Max:
			return &field.Error{Key: at, Msg: fmt.Sprintf("min and max are both %v; expected a range", m.Min)}
		}
		if err := clash(key{0, m.CC, m.Channel}, at); err != nil {
			return err
		}
	}
	for i, n := range c.Notes {
		at := fmt.Sprintf("notes[%d]", i)
		switch {
		case n.Note < 0 || n.Note > 127:
			return &field.Error{Key: at + ".note", Msg: fmt.Sprintf("%d; expected 0..127", n.Note)}
		case n.Channel < 0 || n.Channel > 16:
			return &field.Error{Key: at + ".channel", Msg: fmt.Sprintf("%d; expected 1..16, or 0 for any", n.Channel)}
		case n.Preset == "":
			return &field.Error{Key: at + ".preset", Msg: "empty; expected a preset's name"}
		}
		if err := clash(key{1, n.Note, n.Channel}, at); err != nil {
			return err
		}
	}
	return nil
}

// Check validates c, then reports the first control naming a parameter
// that isParam does not know, or note naming a preset that isPreset does
// not know. The owner of the pipeline calls it with its own registries,
// which this package cannot see.
func (c Config) Check(isParam, isPreset func(string) bool) error {
	if err := c.Validate(); err != nil {
		return err
	}
	for i, m := range c.Controls {
		if isParam != nil && !isParam(m.Param) {
			return &field.Error{Key: fmt.Sprintf("controls[%d].param", i), Msg: fmt.Sprintf("%q is not a live parameter (GET /api/params lists them)", m.Param)}
		}
	}
	for i, n := range c.Notes {
		if isPreset != nil && !isPreset(n.Preset) {
			return &field.Error{Key: fmt.Sprintf("notes[%d].preset", i), Msg: fmt.Sprintf("%q is not a preset of scene.presets", n.Preset)}
		}
	}
	return nil
}

// With is c with control k added, replacing any mapping of the same
// controller on the same channel (or on any channel, when either says any):
// MIDI learn binds a knob this way.
func (c Config) With(k Control) Config {
	out := c
	out.Controls = make([]Control, 0, len(c.Controls)+1)
	for _, m := range c.Controls {
		if m.CC == k.CC && (m.Channel == k.Channel || m.Channel == 0 || k.Channel == 0) {
			continue
		}
		out.Controls = append(out.Controls, m)
	}
	out.Controls = append(out.Controls, k)
	return out
}

// YAML is the control as an entry of midi.controls in config.yaml.
func (k Control) YAML() string {
	return fmt.Sprintf("- {cc: %d, channel: %d, param: %s, min: %g, max: %g}", k.CC, k.Channel, k.Param, k.Min, k.Max)
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
