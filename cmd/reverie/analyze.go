package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"gocv.io/x/gocv"

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
		if st, err := os.Stat(*input); err != nil {
			return fmt.Errorf("analyze: -input %s: %w", *input, userfile.StripPath(err))
		} else if st.IsDir() {
			return fmt.Errorf("analyze: -input %s is a folder, expected a video file, a camera index or a URL", *input)
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
	src, err := vision.OpenSource(vc, *input)
	if err != nil {
		return fmt.Errorf("analyze: -input: %w", err)
	}
	// A file is analysed on its own clock, detection inline, so the same
	// file gives the same lines; a camera's detection must not stall it.
	newAn := vision.NewLiveAnalyzer
	if kind == vision.KindFile {
		newAn = vision.NewAnalyzer
	}
	an := newAn(vc)
	defer an.Close()
	sum := vision.NewSummary(vc)
	var pv *vision.PreviewWindow
	var pic *vision.Preview
	switch {
	case *window:
		pv = vision.NewPreviewWindow(vc)
		defer pv.Close()
		pic = pv.Preview
	case *snapshot != "":
		pic = vision.NewPreview(vc)
		defer pic.Close()
	}
	// The snapshot is written each second of frame time, and at the end.
	lastShot := math.Inf(-1)
	shoot := func() {
		if pic == nil || *snapshot == "" || pic.Picture().Empty() {
			return
		}
		if !gocv.IMWrite(*snapshot, *pic.Picture()) {
			sum.Note = fmt.Sprintf("could not write -snapshot %s", *snapshot)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	enc := json.NewEncoder(os.Stdout)
	var rec vision.Record
	var fps float64
	var failed error
	last, counted := time.Now(), 0
	each := func(frame gocv.Mat, t float64) bool {
		f := an.Analyze(frame, t)
		rec.Fill(f)
		if err := enc.Encode(&rec); err != nil {
			return false // stdout closed (piped into head): stop quietly
		}
		sum.Add(f)
		// The rate shown is over the last second or more, so an inline
		// detection's pause shows in it.
		counted++
		if d := time.Since(last).Seconds(); d >= 1 {
			fps, last, counted = float64(counted)/d, time.Now(), 0
		}
		if pic != nil {
			pic.Draw(frame, an.Foreground(), an.Moving(), f, fps)
			if t-lastShot >= 1 {
				lastShot = t
				shoot()
			}
		}
		if pv != nil && !pv.Show() {
			return false
		}
		return *frames == 0 || sum.Frames < *frames
	}
	if kind == vision.KindFile {
		// Every frame, on the file's own clock, as fast as it decodes.
		defer src.Close()
		frame := gocv.NewMat()
		defer frame.Close()
		step := 1 / src.FPS()
		for n := 0; ctx.Err() == nil; n++ {
			if err := src.Read(&frame); err != nil {
				if !errors.Is(err, vision.ErrEnd) {
					sum.Note = fmt.Sprintf("the file stopped delivering frames: %v", err)
				}
				var de *vision.DamagedError
				if errors.As(err, &de) {
					failed = fmt.Errorf("analyze: -input: %w", err)
				}
				break
			}
			if !each(frame, float64(n)*step) {
				break
			}
		}
	} else {
		// A camera or stream runs on in its own goroutine; a slow analysis
		// drops frames, and a lost camera is reopened.
		capture := vision.NewCapture(src, func() (vision.Source, error) { return vision.OpenSource(vc, *input) })
		capture.Each(ctx, func(frame gocv.Mat, at time.Time) bool {
			return each(frame, at.Sub(sum.Start).Seconds())
		})
		if st, err := capture.State(); st != vision.StateOK && err != nil {
			sum.Note = fmt.Sprintf("source %s at the end: %v", st, err)
		}
	}
	shoot()
	sum.Print(os.Stderr)
	return failed // after the summary: the frames before the damage count
}
