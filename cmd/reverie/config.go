package main

import (
	"flag"
	"log/slog"
	"os"

	"reverie/conf"
	"reverie/core"
)

// configFlag adds -config to a command's flags.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", conf.DefaultFile, "config file (config.yaml documents every option)")
}

// loadConfig loads the file -config named, and sets up logging from it.
func loadConfig(fs *flag.FlagSet, path string) (conf.Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := conf.Load(path, explicit)
	if err != nil {
		return cfg, err
	}
	core.SetupLog(cfg.Log)
	if _, statErr := os.Stat(path); statErr != nil {
		slog.Info("no config file; using the built-in defaults", "file", path)
	} else {
		slog.Info("config loaded", "file", path)
	}
	return cfg, nil
}
