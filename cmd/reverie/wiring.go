package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"reverie/gen"
	"reverie/internal/redact"
)

// configFlag adds -config to a command's flags.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", defaultConfigFile, "config file (config.yaml documents every option)")
}

// loadConfig loads the file -config named, and sets up logging from it.
func loadConfig(fs *flag.FlagSet, path string) (Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := LoadConfig(path, explicit)
	if IsEmptyConfig(err) {
		// At start the defaults are all there is to run on; say so. A
		// reload refuses such a file.
		setupLog(cfg.Log)
		slog.Warn("config file holds no settings (empty or only comments): running on the built-in defaults", "file", path)
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	setupLog(cfg.Log)
	if _, statErr := os.Stat(path); statErr != nil {
		slog.Info("no config file; using the built-in defaults", "file", path)
	} else {
		slog.Info("config loaded", "file", path)
	}
	return cfg, nil
}

func setupLog(c LogConfig) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	// Warnings and errors also feed /api/status; neither ever shows a
	// stream's password.
	slog.SetDefault(slog.New(redact.Handler(journal.Handler(h))))
}

// openRunner loads ONNX Runtime and the configured model, warms it up (the
// first run is much slower than the rest) and returns a runner.
func openRunner(c gen.Config) (*gen.Runner, error) {
	lib, err := gen.Init(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	slog.Info("ONNX Runtime loaded", "version", gen.RuntimeVersion(), "library", lib.Path, "found_by", lib.Source)
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
