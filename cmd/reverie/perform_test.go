package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"reverie/audio"
	"reverie/vision"
)

// The piece plays from the room's sound and a MIDI controller: `reverie
// run` hears a click track (audio.source a WAV file, played in real time)
// and shows its tempo in /api/status; the MIDI device is missing at first,
// reported once and retried, and when it appears its bytes move a
// parameter and recall a preset. Real parts: the binary on Xvfb, OpenCV,
// ONNX Runtime, Ebiten, a FIFO carrying MIDI bytes.
func TestRunPlaysFromSoundAndMIDI(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("needs a display: run under xvfb-run")
	}
	dir := t.TempDir()
	samples, _ := audio.ClickTrack(48000, 120, 0.2, 8, 2)
	wav := filepath.Join(dir, "clicks.wav")
	if err := os.WriteFile(wav, audio.EncodeWAV(48000, 1, false, samples), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	dev := filepath.Join(dir, "midiC1D0")
	y := fmt.Sprintf(`vision:
  source: %s
  person: off
generator:
  width: 64
  height: 36
scene:
  fullscreen: false
  render_width: 320
  render_height: 180
  presets:
    - {name: calm, warp.zoom: 1.001}
    - {name: bloom, warp.zoom: 1.02}
  passes:
    - {pass: warp}
    - {pass: inject}
    - {pass: output}
  drives:
    - {feature: audio.beat, param: warp.zoom, amount: 0.03, release: 0.15}
control:
  listen: %s
  osc:
    listen: ""
audio:
  source: %s
midi:
  device: %s
  controls:
    - {cc: 74, channel: 1, param: warp.rotate, min: 0, max: 0.1}
  notes:
    - {note: 36, preset: bloom}
`, vision.SampleClip, addr, wav, dev)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPiece(t, cfgPath)
	type statusJSON struct {
		Preset string
		Sound  struct {
			State      string
			Level, BPM float64
		}
		MIDI struct{ State, Device, Error string }
	}
	var st statusJSON
	status := func() {
		st = statusJSON{}
		_, body := httpGet(addr, "/api/status")
		_ = json.Unmarshal([]byte(body), &st)
	}
	param := func(name string) float64 {
		var ps []struct {
			Name  string
			Value float64
		}
		_, body := httpGet(addr, "/api/params")
		_ = json.Unmarshal([]byte(body), &ps)
		for _, q := range ps {
			if q.Name == name {
				return q.Value
			}
		}
		return math.NaN()
	}
	waitFor := p.waitFor
	waitFor("the missing MIDI device reported", 60*time.Second, func() bool {
		status()
		return st.MIDI.State == "lost" && strings.Contains(st.MIDI.Error, dev)
	})
	waitFor("the click track's tempo", 30*time.Second, func() bool {
		status()
		return st.Sound.State == "listening" && st.Sound.Level > 0 && math.Abs(st.Sound.BPM-120) <= 2
	})
	time.Sleep(time.Second) // a few retries of the missing device

	// The controller is plugged in.
	if err := syscall.Mkfifo(dev, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitFor("the MIDI device opened", 15*time.Second, func() bool { status(); return st.MIDI.State == "listening" })
	w.Write([]byte{0xB0, 74, 127, 0x90, 36, 100})
	waitFor("knob 74 setting warp.rotate to 0.1", 5*time.Second, func() bool { return math.Abs(param("warp.rotate")-0.1) < 1e-6 })
	waitFor("note 36 recalling bloom", 5*time.Second, func() bool { status(); return st.Preset == "bloom" })

	b := p.log()
	if n := strings.Count(b, "MIDI input lost"); n != 1 {
		t.Errorf("the missing device was logged %d times; want once", n)
	}
	for _, want := range []string{"sound input listening", "MIDI input listening"} {
		if !strings.Contains(b, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	t.Logf("sound: %+v; midi: %+v", st.Sound, st.MIDI)
}
