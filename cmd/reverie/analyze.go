package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

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
	sess := vision.Session{Input: *input, Window: *window, Snapshot: *snapshot, Frames: *frames}
	if err := sess.Check(); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	sess.Config = cfg.Vision
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := sess.Run(ctx, os.Stdout)
	if sum == nil {
		return fmt.Errorf("analyze: -input: %w", err)
	}
	sum.Print(os.Stderr)
	if err != nil {
		return fmt.Errorf("analyze: -input: %w", err) // after the summary: the frames before the damage count
	}
	return nil
}
