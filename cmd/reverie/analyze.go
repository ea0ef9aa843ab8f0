package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"gocv.io/x/gocv"

	"reverie/vision"
)

// analyzeLine is one analysed frame as `reverie analyze` prints it.
type analyzeLine struct {
	Frame       int        `json:"frame"`
	T           float64    `json:"t"`
	Motion      float64    `json:"motion"`
	Presence    bool       `json:"presence"`
	Level       float64    `json:"level"`
	Centroid    [2]float64 `json:"centroid"`
	Flow        [2]float64 `json:"flow"`
	Grid        []float64  `json:"grid"`
	People      int        `json:"people"`
	Faces       int        `json:"faces"`
	LightChange bool       `json:"light_change"`
	Gain        float64    `json:"gain"`
	Foreground  float64    `json:"foreground"`
	Warm        bool       `json:"warm"`
}

func cmdAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	input := fs.String("input", "", "what to watch: a camera index (0), a video file or a stream URL (required)")
	preview := fs.Bool("preview", false, "open a window with the camera image, the foreground mask, the flow and the regions")
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
			return fmt.Errorf("analyze: -input %s: %w", *input, unwrapPath(err))
		} else if st.IsDir() {
			return fmt.Errorf("analyze: -input %s is a folder, expected a video file, a camera index or a URL", *input)
		}
	}
	if *preview && os.Getenv("DISPLAY") == "" {
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
	src, err := vision.OpenSource(vc, *input)
	if err != nil {
		return fmt.Errorf("analyze: -input: %w", err)
	}
	an := vision.NewAnalyzer(vc)
	defer an.Close()
	var pv *previewWindow
	if *preview {
		pv = newPreview(vc)
		defer pv.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sum := analyzeSummary{start: time.Now(), grid: make([]float64, vc.GridW*vc.GridH)}
	enc := json.NewEncoder(os.Stdout)
	each := func(frame gocv.Mat, t float64) bool {
		f := an.Analyze(frame, t)
		if err := enc.Encode(featureLine(f)); err != nil {
			return false // stdout closed (piped into head): stop quietly
		}
		sum.add(f)
		if pv != nil && !pv.show(frame, an, f) {
			return false
		}
		return *frames == 0 || sum.frames < *frames
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
					sum.note = fmt.Sprintf("the file stopped delivering frames: %v", err)
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
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { capture.Run(cctx); close(done) }()
		frame := gocv.NewMat()
		var seq uint64
	loop:
		for {
			select {
			case <-cctx.Done():
				break loop
			case <-done:
				break loop
			case <-capture.Frames():
			}
			s, at, ok := capture.Latest(&frame, seq)
			if !ok {
				continue
			}
			seq = s
			if !each(frame, at.Sub(sum.start).Seconds()) {
				break
			}
		}
		cancel()
		<-done
		frame.Close()
		if st, err := capture.State(); st != vision.StateOK && err != nil {
			sum.note = fmt.Sprintf("source %s at the end: %v", st, err)
		}
	}
	sum.print(vc)
	return nil
}

func featureLine(f *vision.Features) analyzeLine {
	l := analyzeLine{
		Frame: f.Frame, T: r3(f.T), Motion: r3(float64(f.Motion)), Presence: f.Presence, Level: r3(float64(f.Level)),
		Centroid: [2]float64{r3(float64(f.Centroid[0])), r3(float64(f.Centroid[1]))},
		Flow:     [2]float64{r3(float64(f.Flow[0])), r3(float64(f.Flow[1]))},
		Grid:     make([]float64, len(f.Grid)),
		People:   f.People, Faces: f.Faces, LightChange: f.LightChange,
		Gain: r3(float64(f.Gain)), Foreground: r3(float64(f.Foreground)), Warm: f.Warm,
	}
	for i, g := range f.Grid {
		l.Grid[i] = r3(float64(g))
	}
	return l
}

// r3 rounds to three decimals, so a person can read the lines.
func r3(v float64) float64 { return math.Round(v*1000) / 1000 }

// analyzeSummary collects what the technician needs to judge the tuning.
type analyzeSummary struct {
	start                         time.Time
	frames, warm, present, lights int
	moving, maxPeople, maxFaces   int
	motion, maxMotion, flicker    float64
	wasPresent                    bool
	grid                          []float64
	note                          string
}

func (s *analyzeSummary) add(f *vision.Features) {
	s.frames++
	s.motion += float64(f.Motion)
	s.maxMotion = max(s.maxMotion, float64(f.Motion))
	if f.Motion > 0.01 {
		s.moving++
	}
	if f.LightChange {
		s.lights++
	}
	s.maxPeople, s.maxFaces = max(s.maxPeople, f.People), max(s.maxFaces, f.Faces)
	for i, g := range f.Grid {
		s.grid[i] += float64(g)
	}
	if !f.Warm {
		return
	}
	s.warm++
	if f.Presence {
		s.present++
	}
	if f.Presence != s.wasPresent && s.warm > 1 {
		s.flicker++
	}
	s.wasPresent = f.Presence
}

func (s *analyzeSummary) print(c vision.Config) {
	w := os.Stderr
	el := time.Since(s.start).Seconds()
	if s.frames == 0 {
		fmt.Fprintln(w, "analyze: no frames were analysed")
		if s.note != "" {
			fmt.Fprintln(w, "  "+s.note)
		}
		return
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	fmt.Fprintf(w, "analyze: %d frames in %.1f s (%.1f frames/s analysed at %dx%d, sensitivity %g)\n",
		s.frames, el, float64(s.frames)/el, c.AnalyzeW, c.AnalyzeH, c.Sensitivity)
	fmt.Fprintf(w, "  motion:   mean %.3f, max %.3f; above 0.01 in %.0f%% of frames\n", s.motion/float64(s.frames), s.maxMotion, pct(s.moving, s.frames))
	fmt.Fprintf(w, "  presence: in %.0f%% of %d frames after the %gs warm-up; it switched %.0f times\n", pct(s.present, s.warm), s.warm, c.Warmup, s.flicker)
	fmt.Fprintf(w, "  light changes normalised away: %d frames\n", s.lights)
	if c.People || c.Faces {
		fmt.Fprintf(w, "  most people seen at once: %d; most faces: %d\n", s.maxPeople, s.maxFaces)
	}
	busiest, best := 0, -1.0
	for i, g := range s.grid {
		if g > best {
			busiest, best = i, g
		}
	}
	bx, by := busiest%c.GridW, busiest/c.GridW
	fmt.Fprintf(w, "  busiest grid cell: column %d, row %d of %dx%d (x %.2f..%.2f, y %.2f..%.2f), mean energy %.3f\n",
		bx+1, by+1, c.GridW, c.GridH, float64(bx)/float64(c.GridW), float64(bx+1)/float64(c.GridW),
		float64(by)/float64(c.GridH), float64(by+1)/float64(c.GridH), best/float64(s.frames))
	switch {
	case s.warm > 0 && s.present == 0 && s.moving > s.frames/4:
		fmt.Fprintln(w, "  hint: things move but nobody reads as present: raise vision.sensitivity")
	case s.warm > 0 && pct(s.present, s.warm) > 95 && s.moving < s.frames/10:
		fmt.Fprintln(w, "  hint: presence nearly always on with little motion: lower vision.sensitivity, or add the busiest cell to vision.ignore if a screen or doorway is there")
	case s.flicker > float64(s.warm)/20:
		fmt.Fprintln(w, "  hint: presence flickers: raise vision.hold")
	}
	if s.note != "" {
		fmt.Fprintln(w, "  "+s.note)
	}
}

// previewWindow shows what the analysis sees: the picture with the regions,
// flow arrows and centroid drawn over it, beside the foreground mask.
type previewWindow struct {
	win                 *gocv.Window
	cfg                 vision.Config
	view, mask, maskBGR gocv.Mat
	both                gocv.Mat
}

func newPreview(c vision.Config) *previewWindow {
	return &previewWindow{win: gocv.NewWindow("reverie analyze (q or Esc quits)"), cfg: c,
		view: gocv.NewMat(), mask: gocv.NewMat(), maskBGR: gocv.NewMat(), both: gocv.NewMat()}
}

// show draws one frame; it returns false when the user quits.
func (p *previewWindow) show(frame gocv.Mat, an *vision.Analyzer, f *vision.Features) bool {
	const vw = 640
	vh := vw * frame.Rows() / max(frame.Cols(), 1)
	size := image.Pt(vw, vh)
	gocv.Resize(frame, &p.view, size, 0, 0, gocv.InterpolationArea)
	if p.view.Channels() == 1 {
		gocv.CvtColor(p.view, &p.view, gocv.ColorGrayToBGR)
	}
	green, red, yellow := color.RGBA{0, 255, 0, 0}, color.RGBA{255, 0, 0, 0}, color.RGBA{255, 255, 0, 0}
	polylines(&p.view, p.cfg.Regions, vw, vh, green)
	polylines(&p.view, p.cfg.Ignore, vw, vh, red)
	// One arrow per flow cell, scaled so a cell's arrow spans a cell at a
	// flow of one frame width per second.
	cw, ch := float64(vw)/float64(f.FlowW), float64(vh)/float64(f.FlowH)
	for y := 0; y < f.FlowH; y++ {
		for x := 0; x < f.FlowW; x++ {
			k := 2 * (y*f.FlowW + x)
			dx, dy := float64(f.FlowField[k]), float64(f.FlowField[k+1])
			if math.Hypot(dx, dy) < 0.02 {
				continue
			}
			c := image.Pt(int((float64(x)+0.5)*cw), int((float64(y)+0.5)*ch))
			d := image.Pt(c.X+int(dx*cw*4), c.Y+int(dy*cw*4))
			gocv.ArrowedLine(&p.view, c, d, yellow, 1)
		}
	}
	if f.Presence {
		gocv.Circle(&p.view, image.Pt(int(float64(f.Centroid[0])*vw), int(float64(f.Centroid[1])*float64(vh))), 10, red, 2)
	}
	status := fmt.Sprintf("t %.1f  motion %.2f  level %.2f  presence %v  people %d  faces %d", f.T, f.Motion, f.Level, f.Presence, f.People, f.Faces)
	if f.LightChange {
		status += "  LIGHT CHANGE"
	}
	if !f.Warm {
		status += "  warming up"
	}
	gocv.PutText(&p.view, status, image.Pt(8, 20), gocv.FontHersheyPlain, 1.1, green, 1)
	if fg := an.Foreground(); fg.Empty() {
		// The background model starts on the second frame.
		p.view.CopyTo(&p.maskBGR)
		p.maskBGR.SetTo(gocv.NewScalar(0, 0, 0, 0))
	} else {
		gocv.Resize(fg, &p.mask, size, 0, 0, gocv.InterpolationNearestNeighbor)
		gocv.CvtColor(p.mask, &p.maskBGR, gocv.ColorGrayToBGR)
	}
	polylines(&p.maskBGR, p.cfg.Regions, vw, vh, green)
	polylines(&p.maskBGR, p.cfg.Ignore, vw, vh, red)
	gocv.Hconcat(p.view, p.maskBGR, &p.both)
	p.win.IMShow(p.both)
	key := p.win.WaitKey(1)
	return key != 'q' && key != 27
}

func polylines(img *gocv.Mat, polys []vision.Polygon, w, h int, c color.RGBA) {
	if len(polys) == 0 {
		return
	}
	pv := gocv.NewPointsVectorFromPoints(vision.PolygonPoints(polys, w, h))
	defer pv.Close()
	gocv.Polylines(img, pv, true, c, 2)
}

func (p *previewWindow) Close() {
	p.win.Close()
	for _, m := range []*gocv.Mat{&p.view, &p.mask, &p.maskBGR, &p.both} {
		m.Close()
	}
}
