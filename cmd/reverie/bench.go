package main

import (
	"flag"
	"fmt"
	"os"

	"reverie/bench"
)

func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object with a stable key per figure")
	quick := fs.Bool("quick", false, "fewer iterations and latency events: finishes in under a minute")
	cfg, err := parseConfig(fs, args, cfgPath)
	if err != nil {
		return err
	}
	r, err := bench.Run(bench.Config{Generator: cfg.Generator, Vision: cfg.Vision, Scene: cfg.Scene, Audio: cfg.Audio, Quick: *quick})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if *asJSON {
		return r.WriteJSON(os.Stdout)
	}
	return r.WriteText(os.Stdout)
}
