package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"reverie/internal/userfile"
	"reverie/vision"
)

func cmdAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	input := fs.String("input", "", "what to watch: a camera index (0), a video file or a stream URL (required)")
	window := fs.Bool("preview", false, "open a window with the camera image, the foreground mask, the flow and the regions")
	snapshot := fs.String("snapshot", "", "write the preview picture to this PNG file every second and at the end; works without a display (over SSH)")
	frames := fs.Int("frames", 0, "stop after this many frames; 0 runs to a file's end, or until Ctrl-C")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *input == "":
		return errors.New("analyze: -input SRC is required: a camera index (0), a video file or a stream URL")
	case *frames < 0:
		return fmt.Errorf("analyze: -frames %d: expected 0 (all) or a positive number", *frames)
	}
	kind := vision.ParseSource(*input)
	if kind == vision.KindFile {
		if err := userfile.CheckInput(*input); err != nil {
			return fmt.Errorf("analyze: -input %s: %w; expected a video file, a camera index or a URL", *input, err)
		}
	}
	if *window && os.Getenv("DISPLAY") == "" {
		return errors.New("analyze: -preview needs a display and DISPLAY is unset; run without -preview to print the features only")
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	vc := cfg.Vision
	vc.Source = *input
	// A technician analyses a file once through, whatever the installation
	// does with it.
	vc.AtEnd = "stop"
	if *snapshot != "" {
		if st, err := os.Stat(filepath.Dir(*snapshot)); err != nil || !st.IsDir() {
			return fmt.Errorf("analyze: -snapshot %s: the folder %s does not exist", *snapshot, filepath.Dir(*snapshot))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := vision.Session{Config: vc, Window: *window, Snapshot: *snapshot, Frames: *frames}.Run(ctx, os.Stdout)
	if sum == nil {
		return fmt.Errorf("analyze: -input: %w", err)
	}
	sum.Print(os.Stderr)
	if err != nil {
		return fmt.Errorf("analyze: -input: %w", err) // after the summary: the frames before the damage count
	}
	return nil
}
