package main

import (
	"flag"
	"fmt"
	"runtime/debug"

	"gocv.io/x/gocv"

	"reverie/gen"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// The models reverie builds record the version that built them.
func init() { gen.Version = version }

func cmdVersion(args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	fmt.Printf("reverie      %s\n", version)
	fmt.Printf("OpenCV       %s (gocv %s)\n", gocv.OpenCVVersion(), gocv.Version())
	if _, err := gen.Init(cfg.Generator.ORTLibrary); err != nil {
		return err
	}
	fmt.Printf("ONNX Runtime %s\n", gen.RuntimeVersion())
	fmt.Printf("Ebiten       %s\n", moduleVersion("github.com/hajimehoshi/ebiten/v2"))
	return nil
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}
