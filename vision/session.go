package vision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/userfile"
)

// Session is one run of `reverie analyze`: it watches a source, writes one
// Record per analysed frame as a JSON line, and keeps the Summary with its
// tuning hints. It can draw the preview in a window or to a PNG file.
type Session struct {
	Config   Config // the vision section; Input replaces its source
	Input    string // what to watch: a camera index, a video file or a stream URL
	Window   bool   // show the preview in a window (needs a display)
	Snapshot string // write the preview to this PNG every second and at the end
	Frames   int    // stop after this many frames; 0 runs to a file's end, or until ctx ends
}

// Check says what is wrong with the session before any config is loaded.
// Its errors name each field by `reverie analyze`'s flag.
func (s Session) Check() error {
	switch {
	case s.Input == "":
		return errors.New("analyze: -input SRC is required: a camera index (0), a video file or a stream URL")
	case s.Frames < 0:
		return fmt.Errorf("analyze: -frames %d: expected 0 (all) or a positive number", s.Frames)
	}
	if ParseSource(s.Input) == KindFile {
		if err := userfile.CheckInput(s.Input); err != nil {
			return fmt.Errorf("analyze: -input %s: %w; expected a video file, a camera index or a URL", s.Input, err)
		}
	}
	if s.Window && os.Getenv("DISPLAY") == "" {
		return errors.New("analyze: -preview needs a display and DISPLAY is unset; run without -preview to print the features only")
	}
	if s.Snapshot != "" {
		if st, err := os.Stat(filepath.Dir(s.Snapshot)); err != nil || !st.IsDir() {
			return fmt.Errorf("analyze: -snapshot %s: the folder %s does not exist", s.Snapshot, filepath.Dir(s.Snapshot))
		}
	}
	return nil
}

// Run analyses until the file ends, Frames are done, the window closes, out
// is closed or ctx ends. It returns the summary; the error is a source that
// cannot open, or a damaged file (after the frames before the damage).
func (s Session) Run(ctx context.Context, out io.Writer) (*Summary, error) {
	vc := s.Config
	// A technician analyses a file once through, whatever the installation
	// does with it.
	vc.Source, vc.AtEnd = s.Input, "stop"
	input := vc.Source
	kind := ParseSource(input)
	src, err := OpenSource(vc, input)
	if err != nil {
		return nil, err
	}
	// A file is analysed on its own clock, detection inline, so the same
	// file gives the same lines; a camera's detection must not stall it.
	newAn := NewLiveAnalyzer
	if kind == KindFile {
		newAn = NewAnalyzer
	}
	an := newAn(vc)
	defer an.Close()
	sum := NewSummary(vc)
	var pv *PreviewWindow
	var pic *Preview
	switch {
	case s.Window:
		pv = NewPreviewWindow(vc)
		defer pv.Close()
		pic = pv.Preview
	case s.Snapshot != "":
		pic = NewPreview(vc)
		defer pic.Close()
	}
	// The snapshot is written each second of frame time, and at the end.
	lastShot := math.Inf(-1)
	shoot := func() {
		if pic == nil || s.Snapshot == "" || pic.Picture().Empty() {
			return
		}
		if !gocv.IMWrite(s.Snapshot, *pic.Picture()) {
			sum.Note = fmt.Sprintf("could not write -snapshot %s", s.Snapshot)
		}
	}
	enc := json.NewEncoder(out)
	var rec Record
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
			pic.Draw(frame, an, f, fps)
			if t-lastShot >= 1 {
				lastShot = t
				shoot()
			}
		}
		if pv != nil && !pv.Show() {
			return false
		}
		return s.Frames == 0 || sum.Frames < s.Frames
	}
	if kind == KindFile {
		// Every frame, on the file's own clock, as fast as it decodes.
		defer src.Close()
		frame := gocv.NewMat()
		defer frame.Close()
		step := 1 / src.FPS()
		for n := 0; ctx.Err() == nil; n++ {
			if err := src.Read(&frame); err != nil {
				if !errors.Is(err, ErrEnd) {
					sum.Note = fmt.Sprintf("the file stopped delivering frames: %v", err)
				}
				var de *DamagedError
				if errors.As(err, &de) {
					failed = err
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
		capture := NewCapture(src, func() (Source, error) { return OpenSource(vc, input) })
		capture.Each(ctx, func(frame gocv.Mat, at time.Time) bool {
			return each(frame, at.Sub(sum.Start).Seconds())
		})
		if st, err := capture.State(); st != StateOK && err != nil {
			sum.Note = fmt.Sprintf("source %s at the end: %v", st, err)
		}
	}
	shoot()
	return sum, failed
}
