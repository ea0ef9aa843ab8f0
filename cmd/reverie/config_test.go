package main

import (
	"reflect"
	"strings"
	"testing"
)

// config.yaml documents the defaults: loading it must give exactly the
// program's built-in defaults, so the two can never drift apart.
func TestConfigYAMLIsTheDefaults(t *testing.T) {
	cfg, err := LoadConfig("../../config.yaml", true)
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
	}
	for _, c := range cases {
		_, err := ParseConfig("bad.yaml", []byte(c.yaml))
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
	cfg, err := ParseConfig("part.yaml", []byte("vision:\n  sensitivity: 0.8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Vision.Sensitivity != 0.8 || cfg.Vision.AnalyzeW != DefaultConfig().Vision.AnalyzeW {
		t.Errorf("partial file: got %+v", cfg.Vision)
	}
}

func TestConfigMissingExplicitFile(t *testing.T) {
	if _, err := LoadConfig("/nonexistent/reverie.yaml", true); err == nil || !strings.Contains(err.Error(), "/nonexistent/reverie.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadConfig("/nonexistent/reverie.yaml", false); err != nil {
		t.Errorf("missing default file should mean defaults: %v", err)
	}
}
