package midi

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseAll(b []byte) []Message {
	var p Parser
	var out []Message
	for _, c := range b {
		if m, ok := p.Feed(c); ok {
			out = append(out, m)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	cc := func(ch, n, v uint8) Message { return Message{Kind: ControlChange, Channel: ch, Data1: n, Data2: v} }
	for name, tc := range map[string]struct {
		in   []byte
		want []Message
	}{
		"note on":                {[]byte{0x91, 60, 100}, []Message{{Kind: NoteOn, Channel: 1, Data1: 60, Data2: 100}}},
		"velocity 0 is note off": {[]byte{0x90, 60, 0}, []Message{{Kind: NoteOff, Data1: 60}}},
		// A knob turned fast: one status, then data pairs.
		"running status": {[]byte{0xB0, 7, 1, 7, 2, 7, 3}, []Message{cc(0, 7, 1), cc(0, 7, 2), cc(0, 7, 3)}},
		"clock inside a message": {[]byte{0xB2, 0xF8, 10, 0xF8, 64, 11, 0xFA, 65},
			[]Message{{Kind: Clock}, {Kind: Clock}, cc(2, 10, 64), {Kind: Start}, cc(2, 11, 65)}},
		"sysex skipped, running status ends": {[]byte{0xB0, 1, 2, 0xF0, 0x7E, 0x7F, 0x06, 0xF8, 0x01, 0xF7, 1, 3},
			[]Message{cc(0, 1, 2), {Kind: Clock}}},
		"sysex ended by a status": {[]byte{0xF0, 1, 2, 3, 0xC5, 9}, []Message{{Kind: ProgramChange, Channel: 5, Data1: 9}}},
		"program change running":  {[]byte{0xC0, 1, 2}, []Message{{Kind: ProgramChange, Data1: 1}, {Kind: ProgramChange, Data1: 2}}},
		"pitch bend": {[]byte{0xE3, 0, 0, 0x7F, 0x7F, 0, 0x40},
			[]Message{{Kind: PitchBend, Channel: 3, Value: -8192}, {Kind: PitchBend, Channel: 3, Value: 8191}, {Kind: PitchBend, Channel: 3}}},
		"stray data dropped": {[]byte{5, 6, 0xD1, 7}, []Message{{Kind: ChannelPressure, Channel: 1, Data1: 7}}},
		"system common has no running status": {[]byte{0xF2, 1, 2, 3, 0xF3, 4, 0xF6, 0xF1, 0x35},
			[]Message{{Kind: SongPosition, Value: 1 + 2<<7}, {Kind: SongSelect, Data1: 4}, {Kind: TuneRequest}, {Kind: QuarterFrame, Data1: 0x35}}},
		"undefined bytes":            {[]byte{0xF9, 0xFD, 0xF4, 1, 0xFE}, []Message{{Kind: ActiveSensing}}},
		"reset drops a half message": {[]byte{0x90, 60, 0xFF, 100}, []Message{{Kind: Reset}}},
	} {
		if got := parseAll(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: % x parsed to %v; want %v", name, tc.in, got, tc.want)
		}
	}
}

// A dump of any length is skipped without being stored.
func TestLongSysexCostsNothing(t *testing.T) {
	var p Parser
	if n := testing.AllocsPerRun(10, func() {
		p.Feed(0xF0)
		for range 100000 {
			p.Feed(0x11)
		}
		p.Feed(0xF7)
	}); n != 0 {
		t.Errorf("%v allocations per dump; want 0", n)
	}
	if m, ok := p.Feed(0x90); ok {
		t.Fatalf("status alone gave %v", m)
	}
	p.Feed(1)
	if m, ok := p.Feed(2); !ok || m.Kind != NoteOn {
		t.Errorf("after the dump: %v %v; want a note on", m, ok)
	}
}

// FuzzParse: no bytes may panic the parser or make a message out of range,
// and whatever it parses writes back to bytes that parse the same.
func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{
		{0x90, 60, 100, 60, 0}, {0xB0, 7, 1, 0xF8, 7, 2}, {0xF0, 1, 2, 0xF7, 0xE0, 0, 0x40},
		{0xF2, 0x7F, 0x7F, 0xF1, 1, 0xF3}, {0xC0, 1, 0xD0, 2, 0xA0, 3, 4}, {0xFF, 0x80, 1, 2, 0xF6},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms := parseAll(data)
		var out []byte
		for _, m := range ms {
			if m.Channel > 15 || m.Data1 > 127 || m.Data2 > 127 || m.Value < -8192 || m.Value > 16383 {
				t.Fatalf("% x: message out of range: %+v", data, m)
			}
			out = Append(out, m)
		}
		if again := parseAll(out); !reflect.DeepEqual(again, ms) && !(len(again) == 0 && len(ms) == 0) {
			t.Fatalf("% x parsed to %v; written as % x it parsed to %v", data, ms, out, again)
		}
	})
}

// The whole path: bytes written into a pipe, as a controller writes to its
// device, come out as mapped actions.
func TestReaderThroughAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := NewMapping(Config{
		Controls: []Control{{CC: 74, Param: "zoom", Min: 0.5, Max: 2}, {CC: 1, Channel: 2, Param: "hue", Min: 1, Max: 0}},
		Notes:    []Note{{Note: 36, Preset: "calm"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		// A fader, a sysex dump in between, running status, a pad, a
		// knob on channel 2, split across writes as a USB stream is.
		for _, chunk := range [][]byte{{0xB0, 74}, {127, 0xF0, 1, 2, 3}, {0xF7, 0xB0, 74, 0}, {0x99, 36, 90, 0xB1, 1, 127}, {0xB0, 1, 64}} {
			w.Write(chunk)
		}
		w.Close()
	}()
	rd := NewReader(r, "pipe")
	want := []Action{{Param: "zoom", Value: 2}, {Param: "zoom", Value: 0.5}, {Preset: "calm"}, {Param: "hue", Value: 0}}
	var got []Action
	for {
		msg, err := rd.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "MIDI device pipe") {
				t.Errorf("end of stream: %v; want io.EOF naming the device", err)
			}
			break
		}
		if a, ok := m.Map(msg); ok {
			got = append(got, a)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("actions %+v; want %+v", got, want)
	}
	if rd.Skipped() != 3 {
		t.Errorf("skipped %d bytes; want the dump's 3", rd.Skipped())
	}
}

// Close on a device ends a Read that waits on it, as when the piece stops.
func TestCloseEndsAWaitingRead(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "midi")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	// Hold the writing end open, so the reader waits instead of seeing EOF.
	d, err := Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	wf, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	done := make(chan error)
	go func() { _, err := d.Read(); done <- err }()
	wf.Write([]byte{0xB0})
	d.Close()
	if err := <-done; err == nil || !strings.Contains(err.Error(), fifo) {
		t.Errorf("read after close: %v; want an error naming the device", err)
	}
}

func TestOpenErrorsNameTheDevice(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	for path, want := range map[string]string{
		"/dev/snd/midiC9D9": "no such file",
		file:                "not a character device",
	} {
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s): %v; want an error naming it and saying %q", path, err, want)
		}
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	ok := Control{CC: 1, Param: "zoom", Min: 0, Max: 1}
	for want, cfg := range map[string]Config{
		"controls[1].cc: 120; expected 0..119":      {Controls: []Control{ok, {CC: 120, Param: "a", Max: 1}}},
		"controls[0].channel: 17":                   {Controls: []Control{{CC: 1, Channel: 17, Param: "a", Max: 1}}},
		"controls[0].param: empty":                  {Controls: []Control{{CC: 1, Max: 1}}},
		"controls[0]: min and max are both 1":       {Controls: []Control{{CC: 1, Param: "a", Min: 1, Max: 1}}},
		"controls[1]: the same as midi.controls[0]": {Controls: []Control{ok, {CC: 1, Channel: 3, Param: "b", Max: 1}}},
		"notes[0].note: 128; expected 0..127":       {Notes: []Note{{Note: 128, Preset: "p"}}},
		"notes[0].preset: empty":                    {Notes: []Note{{Note: 1}}},
		"notes[1]: the same as midi.notes[0]":       {Notes: []Note{{Note: 1, Channel: 2, Preset: "p"}, {Note: 1, Channel: 2, Preset: "q"}}},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want %q", err, want)
		}
	}
	good := Config{Controls: []Control{ok, {CC: 1, Channel: 0, Param: "x", Max: 1}}}
	if err := good.Validate(); err == nil {
		t.Error("two maps of CC 1 on any channel: accepted")
	}
	split := Config{Controls: []Control{{CC: 1, Channel: 1, Param: "a", Max: 1}, {CC: 1, Channel: 2, Param: "b", Max: 1}}}
	if err := split.Validate(); err != nil {
		t.Errorf("CC 1 on two channels: %v", err)
	}
	if err := split.Check(func(p string) bool { return p == "a" }, nil); err == nil || !strings.Contains(err.Error(), `controls[1].param: "b" is not a live parameter`) {
		t.Errorf("check: %v", err)
	}
}

func TestMapAllocatesNothing(t *testing.T) {
	m, _ := NewMapping(Config{Controls: []Control{{CC: 7, Param: "gain", Min: 0, Max: 10}}})
	var p Parser
	msg := []byte{0xB0, 7, 64}
	if n := testing.AllocsPerRun(100, func() {
		for _, b := range msg {
			if x, ok := p.Feed(b); ok {
				if a, ok := m.Map(x); !ok || a.Value < 5 || a.Value > 5.1 {
					t.Fatalf("cc 7 = 64 mapped to %+v", a)
				}
			}
		}
	}); n != 0 {
		t.Errorf("%v allocations per message; want 0", n)
	}
}
