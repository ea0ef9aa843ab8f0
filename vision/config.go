// Package vision is the installation's eyes: camera, file and stream sources,
// the capture loop, and the motion analysis that turns frames into Features.
package vision

import (
	"fmt"
	"strconv"
	"strings"
)

// SampleClip is the people-walking clip Debian's opencv-doc ships. The "auto"
// source falls back to it when no camera is present.
const SampleClip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// Config is the vision section of config.yaml.
type Config struct {
	Source      string  `yaml:"source"` // auto | device index | file | URL
	Width       int     `yaml:"width"`  // requested capture size, 0 = the device's
	Height      int     `yaml:"height"`
	FPS         float64 `yaml:"fps"`           // requested capture rate, 0 = the device's
	Mirror      bool    `yaml:"mirror"`        // flip horizontally, so the piece mirrors visitors
	AtEnd       string  `yaml:"at_end"`        // loop | stop, for files
	AnalyzeW    int     `yaml:"analyze_width"` // analysis resolution
	AnalyzeH    int     `yaml:"analyze_height"`
	Sensitivity float64 `yaml:"sensitivity"` // 0..1, higher reads smaller motion
	GridW       int     `yaml:"grid_width"`
	GridH       int     `yaml:"grid_height"`
	Warmup      float64 `yaml:"warmup"` // seconds before presence may be reported
}

// DefaultConfig is the vision section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{Source: "auto", AtEnd: "loop", AnalyzeW: 160, AnalyzeH: 120, Sensitivity: 0.5, GridW: 8, GridH: 6, Warmup: 2}
}

// FieldError names the config key a validation failure is about.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// FieldKey is the key below the section.
func (e *FieldError) FieldKey() string { return e.Key }

// Validate checks every value.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Source) == "" {
		return &FieldError{"source", "empty; expected auto, a device index (0), a video file or a stream URL"}
	}
	if c.Width < 0 || c.Width > 7680 || c.Height < 0 || c.Height > 4320 {
		return &FieldError{"width", fmt.Sprintf("%dx%d: expected 0 (the device's) or up to 7680x4320", c.Width, c.Height)}
	}
	if c.FPS < 0 || c.FPS > 240 {
		return &FieldError{"fps", fmt.Sprintf("%g: expected 0 (the device's) .. 240", c.FPS)}
	}
	if c.AtEnd != "loop" && c.AtEnd != "stop" {
		return &FieldError{"at_end", fmt.Sprintf("%q: expected loop or stop", c.AtEnd)}
	}
	if c.AnalyzeW < 32 || c.AnalyzeW > 1280 {
		return &FieldError{"analyze_width", fmt.Sprintf("%d: expected 32..1280", c.AnalyzeW)}
	}
	if c.AnalyzeH < 24 || c.AnalyzeH > 720 {
		return &FieldError{"analyze_height", fmt.Sprintf("%d: expected 24..720", c.AnalyzeH)}
	}
	if c.Sensitivity < 0 || c.Sensitivity > 1 {
		return &FieldError{"sensitivity", fmt.Sprintf("%g: expected 0..1", c.Sensitivity)}
	}
	if c.GridW < 1 || c.GridW > 64 {
		return &FieldError{"grid_width", fmt.Sprintf("%d: expected 1..64", c.GridW)}
	}
	if c.GridH < 1 || c.GridH > 64 {
		return &FieldError{"grid_height", fmt.Sprintf("%d: expected 1..64", c.GridH)}
	}
	if c.Warmup < 0 || c.Warmup > 600 {
		return &FieldError{"warmup", fmt.Sprintf("%g: expected 0..600 seconds", c.Warmup)}
	}
	return nil
}

// DeviceIndex reports whether the source is a device index, and which.
func DeviceIndex(source string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(source))
	return n, err == nil && n >= 0
}
