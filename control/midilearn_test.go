package control

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"reverie/control/midi"
)

// MIDI through the running control plane: bytes written into a FIFO, as a
// controller writes to its raw device, recall a preset by note; in the
// panel, learn binds the knob moved last to the slider clicked next, and
// that knob then drives the parameter over its range. The engine is faked
// at the package boundary; the MIDI input, the server and Chromium are real.
func TestMIDILearnInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	srv, eng, ts, _ := newTestServer(t, DefaultConfig())
	fifo := filepath.Join(t.TempDir(), "midiC1D0")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read and write: the FIFO then always has a writer, as a plugged-in
	// device does, and opening it never waits for the reader.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	in, err := midi.NewInput(midi.Config{Device: fifo, Notes: []midi.Note{{Note: 36, Preset: "storm"}}}, eng, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.Run(ctx)
	srv.SetMIDI(in)
	eventually(t, "the MIDI input listening", func() bool { return in.Status().State == "listening" })

	w.Write([]byte{0x99, 36, 100}) // a pad on channel 10
	eventually(t, "preset storm recalled by note 36", func() bool { return eng.Stats().Preset == "storm" })

	c := startChromium(t)
	c.openPage(t, ts.URL+"/")
	c.waitFor(t, "the sliders", `!!document.querySelector('input[name="warp.zoom"]')`)

	w.Write([]byte{0xB2, 21, 64}) // knob 21 on channel 3
	c.eval(t, `document.getElementById('midi-learn').click()`)
	c.eval(t, `document.querySelector('input[name="warp.zoom"]').dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}))`)
	c.waitFor(t, "the learned line", `document.getElementById('midi-yaml').textContent.includes('cc: 21, channel: 3, param: warp.zoom')`)

	w.Write([]byte{0xB2, 21, 127, 21, 0}) // full turn, then back (running status)
	eventually(t, "knob 21 at 0 sets warp.zoom to its minimum", func() bool { return eng.value("warp.zoom") == 0.9 })
	w.Write([]byte{0xB2, 21, 127})
	eventually(t, "knob 21 at 127 sets warp.zoom to its maximum", func() bool { return eng.value("warp.zoom") == 1.2 })
	if got := string(c.eval(t, `document.getElementById('midi-state').textContent`)); !strings.Contains(got, "listening") {
		t.Errorf("the panel shows the MIDI state %s; want listening", got)
	}
}

// The MIDI routes answer as the rest of the API: behind the token, with
// errors a person can act on; and /api/status and /metrics show the sound
// and MIDI inputs.
func TestMIDIAndSoundInTheAPI(t *testing.T) {
	const token = "midi-test-token-0123456"
	cfg := DefaultConfig()
	cfg.Token = token
	srv, _, ts, _ := newTestServer(t, cfg)
	auth := []string{"Authorization", "Bearer " + token}
	if code, _, _ := do(t, "POST", ts.URL+"/api/midi/learn", `{"param":"warp.zoom"}`); code != 401 {
		t.Errorf("learn without the token: %d; want 401", code)
	}
	if code, body, _ := do(t, "POST", ts.URL+"/api/midi/learn", `{"param":"warp.zoom"}`, auth...); code != 409 || !strings.Contains(body, "midi.device") {
		t.Errorf("learn with MIDI off: %d %s; want 409 naming midi.device", code, body)
	}
	in, err := midi.NewInput(midi.DefaultConfig(), newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetMIDI(in)
	srv.SetSound(func() SoundStats {
		return SoundStats{Source: "device", State: "lost", Err: "audio: no capture device found"}
	})
	if code, body, _ := do(t, "POST", ts.URL+"/api/midi/learn", `{"param":"warp.zom"}`, auth...); code != 400 || !strings.Contains(body, `warp.zom`) {
		t.Errorf("learn of an unknown parameter: %d %s; want 400 naming it", code, body)
	}
	if code, body, _ := do(t, "POST", ts.URL+"/api/midi/learn", `{"param":"warp.zoom"}`, auth...); code != 409 || !strings.Contains(body, "move one") {
		t.Errorf("learn before any knob moved: %d %s; want 409 saying to move one", code, body)
	}
	_, body, _ := do(t, "GET", ts.URL+"/api/status", "", auth...)
	for _, want := range []string{`"sound": {`, `"state": "lost"`, `no capture device`, `"midi": {`, `"state": "off"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/api/status lacks %s:\n%s", want, body)
		}
	}
	_, body, _ = do(t, "GET", ts.URL+"/metrics", "", auth...)
	for _, want := range []string{"reverie_sound_ok 0", "reverie_sound_bpm 0", "reverie_midi_ok 0", "reverie_midi_messages_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// openPage opens a tab, attaches to it and loads url.
func (c *cdp) openPage(t *testing.T, url string) {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call(t, "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	c.call(t, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	c.session = att.SessionID
	c.call(t, "Page.enable", map[string]any{}, nil)
	c.call(t, "Page.navigate", map[string]any{"url": url}, nil)
}
