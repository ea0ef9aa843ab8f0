package conf

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// config.yaml documents the defaults: loading it must give exactly the
// program's built-in defaults, so the two can never drift apart.
func TestConfigYAMLIsTheDefaults(t *testing.T) {
	cfg, err := Load("../config.yaml", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml differs from DefaultConfig():\n got  %+v\n want %+v", cfg, want)
	}
}

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "vision:\n  sensitivty: 0.4\n", []string{"bad.yaml:2", "vision.sensitivty", "unknown key"}},
		{"wrong type", "generator:\n  width: wide\n", []string{"bad.yaml:2", "generator.width", `"wide"`}},
		{"out of range", "log:\n  level: info\nvision:\n  sensitivity: 3\n", []string{"bad.yaml:4", "vision.sensitivity", "expected 0..1"}},
		{"bad pass", "scene:\n  passes:\n    - pass: warp\n      zoom: 9\n", []string{"bad.yaml:4", "scene.passes[0].zoom", "expected 0.9..1.2"}},
		{"unknown pass", "scene:\n  passes:\n    - pass: blur\n", []string{"bad.yaml:3", "scene.passes[0].pass", `"blur"`}},
		{"syntax", "vision: [\n", []string{"bad.yaml"}},
		{"unknown section", "visoin:\n  source: 0\n", []string{"bad.yaml:1", "visoin", "unknown key"}},
		{"bad height", "vision:\n  width: 640\n  height: 5000\n", []string{"bad.yaml:3", "vision.height", "4320"}},
		{"bad width", "vision:\n  width: 9000\n  height: 480\n", []string{"bad.yaml:2", "vision.width", "7680"}},
		{"old and new name", "scene:\n  director:\n    idle_period: 30\n    idle_speed: 20\n", []string{"bad.yaml:4", "scene.director.idle_speed", "idle_period"}},
		{"point of three", "vision:\n  regions:\n    - [[0, 0], [1, 0, 3], [1, 1]]\n", []string{"bad.yaml:3", "vision.regions[0]", "point 1 has 3 values", "[x, y]"}},
		{"point of one", "vision:\n  regions:\n    - [[0, 0], [1, 0], [1, 1]]\n    - - [0, 0]\n      - [1]\n      - [1, 1]\n", []string{"bad.yaml:5", "vision.regions[1]", "point 1 has 1 values"}},
		{"bad ignore point", "vision:\n  ignore: [[[0, 0], [1, 0], 7]]\n", []string{"bad.yaml:2", "vision.ignore[0]", "point 2"}},
		{"bad audio", "audio:\n  source: device\n  max_bpm: 70\n", []string{"bad.yaml:3", "audio.max_bpm", "1.5 × audio.min_bpm"}},
		{"audio retry", "audio:\n  retry: 0\n", []string{"bad.yaml:2", "audio.retry", "0.1..600"}},
		{"sound feature", "scene:\n  director:\n    mapping:\n      - {feature: audio.loud, direction: 0, gain: 1}\n", []string{"bad.yaml:4", "scene.director.mapping[0].feature", "audio.level"}},
		{"drive param", "scene:\n  drives:\n    - {feature: audio.beat, param: warp.zoom, amount: 0.01}\n    - {feature: audio.high, param: colour.hue, amount: 0.01}\n",
			[]string{"bad.yaml:4", "scene.drives[1].param", `"colour.hue"`, "pass.param"}},
		{"drive amount", "scene:\n  drives:\n    - feature: motion\n      param: warp.zoom\n      amount: 5\n", []string{"bad.yaml:5", "scene.drives[0].amount", "warp.zoom's whole range"}},
		{"midi param", "midi:\n  device: auto\n  controls:\n    - {cc: 1, param: warp.zom, min: 1, max: 1.1}\n", []string{"bad.yaml:4", "midi.controls[0].param", `"warp.zom" is not a live parameter`}},
		{"midi preset", "midi:\n  notes:\n    - {note: 36, preset: tid}\n", []string{"bad.yaml:3", "midi.notes[0].preset", `"tid" is not a preset`}},
		{"midi range", "midi:\n  controls:\n    - cc: 1\n      param: warp.zoom\n      min: 1\n      max: 2\n", []string{"bad.yaml:6", "midi.controls[0].max", "outside warp.zoom's range 0.9..1.2"}},
		{"midi device", "midi:\n  device: midiC1D0\n", []string{"bad.yaml:2", "midi.device", "/dev/snd/midiC1D0"}},
		{"empty", "", []string{"bad.yaml", "no settings"}},
		{"only space", "  \n\n", []string{"bad.yaml", "no settings"}},
		{"only comments", "# vision:\n#   source: 0\n", []string{"bad.yaml", "no settings"}},
		{"empty document", "---\n", []string{"bad.yaml", "no settings"}},
	}
	for _, c := range cases {
		_, err := Parse("bad.yaml", []byte(c.yaml))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error spans lines: %q", c.name, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not mention %q", c.name, msg, w)
			}
		}
	}
}

func TestConfigPartialFileKeepsDefaults(t *testing.T) {
	cfg, err := Parse("part.yaml", []byte("vision:\n  sensitivity: 0.8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Vision.Sensitivity != 0.8 || cfg.Vision.AnalyzeW != DefaultConfig().Vision.AnalyzeW {
		t.Errorf("partial file: got %+v", cfg.Vision)
	}
}

// idle_speed was always a period; its new name is idle_period. A file with
// the old name still loads, the value used, and the log says to rename it.
func TestConfigOldIdleSpeedName(t *testing.T) {
	var logBuf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, nil)))
	defer slog.SetDefault(prev)
	yaml := "scene:\n  director:\n    idle_speed: 40\n  presets:\n    - name: slow\n      director.idle_speed: 90\n"
	cfg, err := Parse("old.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Scene.Director
	if d.IdlePeriod != 40 || d.OldIdleSpeed != nil {
		t.Errorf("idle_speed 40: idle_period %v, old field %v", d.IdlePeriod, d.OldIdleSpeed)
	}
	var slow map[string]float64
	for _, p := range cfg.Scene.Presets {
		if p.Name == "slow" {
			slow = p.Params
		}
	}
	if _, old := slow["director.idle_speed"]; old || slow["director.idle_period"] != 90 {
		t.Errorf("preset slow: %v; want director.idle_period 90 under its new name", slow)
	}
	log := logBuf.String()
	for _, want := range []string{"line=3", "key=scene.director.idle_speed", "line=6", "key=scene.presets[0].director.idle_speed", "renamed director.idle_period"} {
		if !strings.Contains(log, want) {
			t.Errorf("the warning does not mention %q:\n%s", want, log)
		}
	}
}

func TestConfigMissingExplicitFile(t *testing.T) {
	if _, err := Load("/nonexistent/reverie.yaml", true); err == nil || !strings.Contains(err.Error(), "/nonexistent/reverie.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load("/nonexistent/reverie.yaml", false); err != nil {
		t.Errorf("missing default file should mean defaults: %v", err)
	}
}

// An empty config file (or one of comments only) is refused, so a reload
// keeps the running config instead of resetting everything to the
// defaults; the refusal comes with the defaults, which the start runs on
// (with a warning, cmd/reverie's TestEmptyConfigAtStart).
func TestEmptyConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("# everything commented out\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, true)
	if !IsEmpty(err) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load of a comments-only file: %v, want the empty-file refusal naming it", err)
	}
	if want, _ := Parse("defaults.yaml", []byte("log:\n  level: info\n")); !reflect.DeepEqual(cfg, want) {
		t.Error("the refusal does not come with the defaults")
	}
}

// A performer's sections load: a WAV as the sound source, drives, and MIDI
// controls on pass, director and model parameters, notes on presets.
func TestConfigPerformerSections(t *testing.T) {
	y := `audio:
  source: rehearsal.wav
  min_bpm: 100
  max_bpm: 180
scene:
  drives:
    - {feature: audio.beat, param: warp.zoom, amount: 0.03, release: 0.15}
midi:
  device: /dev/snd/midiC1D0
  controls:
    - {cc: 74, channel: 1, param: warp.zoom, min: 1.2, max: 0.9}
    - {cc: 75, param: director.gain, min: 0, max: 10}
    - {cc: 76, param: generator.psi, min: 0, max: 2}
  notes:
    - {note: 36, channel: 10, preset: bloom}
`
	cfg, err := Parse("perform.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audio.Source != "rehearsal.wav" || !cfg.Audio.On() || cfg.Audio.MinBPM != 100 || len(cfg.Scene.Drives) != 1 || len(cfg.MIDI.Controls) != 3 || cfg.MIDI.Path() != "/dev/snd/midiC1D0" {
		t.Errorf("loaded %+v, %+v, %+v", cfg.Audio, cfg.Scene.Drives, cfg.MIDI)
	}
}
