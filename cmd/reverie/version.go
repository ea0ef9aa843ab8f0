package main

import (
	"flag"
	"os"

	"reverie/core"
	"reverie/gen"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// The models reverie builds record the version that built them.
func init() { gen.Version = version }

func cmdVersion(args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	cfg, err := parseConfig(fs, args, cfgPath)
	if err != nil {
		return err
	}
	return core.WriteVersions(os.Stdout, version, cfg.Generator.ORTLibrary)
}
