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
	if conf.IsEmpty(err) {
		// At start the defaults are all there is to run on; say so. A
		// reload refuses such a file.
		core.SetupLog(cfg.Log)
		slog.Warn("config file holds no settings (empty or only comments): running on the built-in defaults", "file", path)
		return cfg, nil
	}
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
