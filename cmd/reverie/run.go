package main

import (
	"flag"
	"log/slog"

	"reverie/cmd/reverie/headless"
	"reverie/core"
)

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	windowed := fs.Bool("windowed", false, "open a window instead of going full-screen")
	cfg, err := parseConfig(fs, args, cfgPath)
	if err != nil {
		return err
	}
	if headless.Virtual() {
		slog.Warn("DISPLAY is unset: running on a virtual display (Xvfb); nothing shows on a screen")
	}
	return core.Run(cfg, *cfgPath, *windowed)
}
