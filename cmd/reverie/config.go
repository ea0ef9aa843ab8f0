package main

import (
	"flag"

	"reverie/conf"
	"reverie/core"
)

// configFlag adds -config to a command's flags.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", conf.DefaultFile, "config file (config.yaml documents every option)")
}

// loadConfig loads the file -config named, and sets up logging from it. A
// file named with -config must exist; the default may be absent.
func loadConfig(fs *flag.FlagSet, path string) (conf.Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	return core.LoadConfig(path, explicit)
}

// parseConfig parses a command's flags, then loads the file -config named.
func parseConfig(fs *flag.FlagSet, args []string, path *string) (conf.Config, error) {
	if err := parseFlags(fs, args); err != nil {
		return conf.Config{}, err
	}
	return loadConfig(fs, *path)
}
