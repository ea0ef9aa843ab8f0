// Package core owns the running installation, as one place: it opens the
// generator and the camera, builds the director and the game, serves live
// control, and applies a changed config.yaml while the piece runs (model
// swaps, camera restarts, a rebuilt chain). It also renders a video file
// offline through the same stages. cmd/reverie parses flags and calls it.
package core

import (
	"fmt"
	"log/slog"
	"os"

	"reverie/conf"
	"reverie/control"
	"reverie/gen"
	"reverie/internal/redact"
)

// Journal keeps the recent warnings and errors for /api/status; SetupLog
// routes the log through it.
var Journal = control.NewJournal(64)

// SetupLog sets the log's level and format from the config.
func SetupLog(c conf.LogConfig) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	// Warnings and errors also feed /api/status; neither ever shows a
	// stream's password.
	slog.SetDefault(slog.New(redact.Handler(Journal.Handler(h))))
}

// OpenRunner loads ONNX Runtime and the configured model, warms it up (the
// first run is much slower than the rest) and returns a runner.
func OpenRunner(c gen.Config) (*gen.Runner, error) {
	lib, err := gen.Init(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	slog.Info("ONNX Runtime loaded", "version", gen.RuntimeVersion(), "library", lib.Path, "found_by", lib.Source)
	if kp, _ := gen.Kernels(); kp != "" {
		slog.Info("reverie's kernels loaded", "library", kp)
	} else {
		slog.Warn("reverie's kernels: " + gen.KernelsStatus())
	}
	model, warning, err := c.Open()
	if err != nil {
		return nil, err
	}
	if warning != "" {
		slog.Warn(string(warning))
	}
	r := gen.NewRunner(model)
	r.SetMaxFPS(c.MaxFPS)
	z := make([]float32, model.Manifest.Latent.Dim)
	if _, err := r.Step(z); err != nil {
		r.Close()
		return nil, fmt.Errorf("warm-up run: %w", err)
	}
	slog.Info("generator ready", "model", model.Manifest.Source(), "size", fmt.Sprintf("%dx%d", model.Width(), model.Height()),
		"provider", model.Provider, "warmup_ms", r.Stats().GenMs)
	return r, nil
}

// LoadConfig loads the config file at path for a command and sets up
// logging from it. explicit says the user named the file: a missing file
// is then an error instead of the built-in defaults. A file with no
// settings runs on the defaults with a warning (a reload refuses one).
func LoadConfig(path string, explicit bool) (conf.Config, error) {
	cfg, err := conf.Load(path, explicit)
	if conf.IsEmpty(err) {
		SetupLog(cfg.Log)
		slog.Warn("config file holds no settings (empty or only comments): running on the built-in defaults", "file", path)
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	SetupLog(cfg.Log)
	if _, statErr := os.Stat(path); statErr != nil {
		slog.Info("no config file; using the built-in defaults", "file", path)
	} else {
		slog.Info("config loaded", "file", path)
	}
	return cfg, nil
}
