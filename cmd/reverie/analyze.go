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
	"path/filepath"
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
			return fmt.Errorf("analyze: -input %s: %w", *input, unwrapPath(err))
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
	sum := analyzeSummary{start: time.Now(), grid: make([]float64, vc.GridW*vc.GridH)}
	var pv *previewWindow
	var pic *preview
	switch {
	case *window:
		pv = newPreviewWindow(vc)
		defer pv.Close()
		pic = pv.preview
	case *snapshot != "":
		pic = newPreview(vc)
		defer pic.Close()
	}
	// The snapshot is written each second of frame time, and at the end.
	lastShot := math.Inf(-1)
	shoot := func() {
		if pic == nil || *snapshot == "" || pic.both.Empty() {
			return
		}
		if !gocv.IMWrite(*snapshot, pic.both) {
			sum.note = fmt.Sprintf("could not write -snapshot %s", *snapshot)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	enc := json.NewEncoder(os.Stdout)
	var fps float64
	var failed error
	last, counted := time.Now(), 0
	each := func(frame gocv.Mat, t float64) bool {
		f := an.Analyze(frame, t)
		if err := enc.Encode(featureLine(f)); err != nil {
			return false // stdout closed (piped into head): stop quietly
		}
		sum.add(f)
		// The rate shown is over the last second or more, so an inline
		// detection's pause shows in it.
		counted++
		if d := time.Since(last).Seconds(); d >= 1 {
			fps, last, counted = float64(counted)/d, time.Now(), 0
		}
		if pic != nil {
			pic.draw(frame, an.Foreground(), an.Moving(), f, fps)
			if t-lastShot >= 1 {
				lastShot = t
				shoot()
			}
		}
		if pv != nil && !pv.show() {
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
			return each(frame, at.Sub(sum.start).Seconds())
		})
		if st, err := capture.State(); st != vision.StateOK && err != nil {
			sum.note = fmt.Sprintf("source %s at the end: %v", st, err)
		}
	}
	shoot()
	sum.print(vc)
	return failed // after the summary: the frames before the damage count
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

// preview draws what the analysis sees, for a technician tuning on site:
// the picture with the regions (green), ignore areas (red), flow arrows and
// centroid over it, beside the foreground mask over a dimmed copy of the
// picture, above a strip of the numbers that matter.
type preview struct {
	cfg                           vision.Config
	view, mask, dim, white, strip gocv.Mat
	top, both                     gocv.Mat
}

// previewW is each panel's width; stripH the text strip's height.
const previewW, stripH = 640, 112

var (
	green  = color.RGBA{60, 220, 60, 0}
	red    = color.RGBA{240, 50, 50, 0}
	yellow = color.RGBA{255, 230, 0, 0}
	orange = color.RGBA{255, 150, 0, 0}
	white  = color.RGBA{235, 235, 235, 0}
	grey   = color.RGBA{140, 140, 140, 0}
)

func newPreview(c vision.Config) *preview {
	p := &preview{cfg: c}
	for _, m := range []*gocv.Mat{&p.view, &p.mask, &p.dim, &p.white, &p.strip, &p.top, &p.both} {
		*m = gocv.NewMat()
	}
	return p
}

// draw composes the preview of frame and its features into p.both; fps is
// how many frames a second are being analysed.
func (p *preview) draw(frame, fg, moving gocv.Mat, f *vision.Features, fps float64) {
	vw := previewW
	vh := vw * frame.Rows() / max(frame.Cols(), 1)
	size := image.Pt(vw, vh)
	gocv.Resize(frame, &p.view, size, 0, 0, gocv.InterpolationArea)
	if p.view.Channels() == 1 {
		gocv.CvtColor(p.view, &p.view, gocv.ColorGrayToBGR)
	}
	// The mask panel shows the evidence presence is read from over the
	// dimmed picture, so a false blob can be traced to what caused it (a
	// screen, a shadow): what changed since the last frame in cyan, the
	// background model's silhouette in white over it.
	p.view.ConvertToWithParams(&p.dim, gocv.MatTypeCV8UC3, 0.35, 0)
	if !fg.Empty() && !moving.Empty() { // both start on the second frame
		if p.white.Rows() != vh || p.white.Cols() != vw {
			p.white.Close()
			p.white = gocv.NewMatWithSize(vh, vw, gocv.MatTypeCV8UC3)
		}
		gocv.Resize(moving, &p.mask, size, 0, 0, gocv.InterpolationNearestNeighbor)
		p.white.SetTo(gocv.NewScalar(230, 200, 0, 0)) // BGR cyan
		p.white.CopyToWithMask(&p.dim, p.mask)
		gocv.Resize(fg, &p.mask, size, 0, 0, gocv.InterpolationNearestNeighbor)
		p.white.SetTo(gocv.NewScalar(255, 255, 255, 0))
		p.white.CopyToWithMask(&p.dim, p.mask)
	}
	for _, img := range []*gocv.Mat{&p.view, &p.dim} {
		outline(img, p.cfg.Regions, vw, vh, green, "region")
		outline(img, p.cfg.Ignore, vw, vh, red, "ignored")
	}
	p.arrows(f, vw, vh)
	// The centroid is drawn while something moves: filled when it counts
	// as presence, a ring when it does not (yet).
	c := image.Pt(int(float64(f.Centroid[0])*float64(vw)), int(float64(f.Centroid[1])*float64(vh)))
	switch {
	case f.Presence:
		gocv.Circle(&p.view, c, 9, red, -1)
		gocv.Circle(&p.view, c, 13, white, 2)
	case f.Level > 0.02 || f.Motion > 0.01:
		gocv.Circle(&p.view, c, 11, orange, 2)
	}
	label(&p.view, "camera: flow arrows, centroid", image.Pt(6, 6), white)
	label(&p.dim, "foreground: white = background model, cyan = changed since last frame", image.Pt(6, 6), white)
	gocv.Hconcat(p.view, p.dim, &p.top)
	p.text(f, fps, 2*vw)
	gocv.Vconcat(p.top, p.strip, &p.both)
}

// arrows draws one arrow per flow cell, scaled so a cell whose pixels all
// move at a tenth of the frame width per second gets an arrow two cells
// long (walking pace across a room); still cells get none.
func (p *preview) arrows(f *vision.Features, vw, vh int) {
	cw, ch := float64(vw)/float64(f.FlowW), float64(vh)/float64(f.FlowH)
	for y := 0; y < f.FlowH; y++ {
		for x := 0; x < f.FlowW; x++ {
			k := 2 * (y*f.FlowW + x)
			dx, dy := float64(f.FlowField[k]), float64(f.FlowField[k+1])
			v := math.Hypot(dx, dy)
			if v < 0.004 {
				continue
			}
			// Long arrows are capped at three cells, so they stay readable.
			l := 20 * cw * min(1, 0.15/v)
			c := image.Pt(int((float64(x)+0.5)*cw), int((float64(y)+0.5)*ch))
			d := image.Pt(c.X+int(dx*l), c.Y+int(dy*l))
			gocv.ArrowedLine(&p.view, c, d, yellow, 2)
		}
	}
}

// text fills the strip under the panels with the numbers a technician tunes
// by, each with its scale.
func (p *preview) text(f *vision.Features, fps float64, w int) {
	if p.strip.Cols() != w {
		p.strip.Close()
		p.strip = gocv.NewMatWithSize(stripH, w, gocv.MatTypeCV8UC3)
	}
	p.strip.SetTo(gocv.NewScalar(24, 24, 24, 0))
	const x0, x1, lh = 12, 660, 26
	row := func(i int) int { return 24 + i*lh }
	put := func(s string, x, y int, c color.RGBA) int {
		gocv.PutTextWithParams(&p.strip, s, image.Pt(x, y), gocv.FontHersheySimplex, 0.55, c, 1, gocv.LineAA, false)
		return x + gocv.GetTextSize(s, gocv.FontHersheySimplex, 0.55, 1).X
	}
	// Line 1: time, rate, sensitivity, warm-up.
	x := put(fmt.Sprintf("t %.1f s   frame %d   analysing %.1f fps   sensitivity %.2f", f.T, f.Frame, fps, p.cfg.Sensitivity), x0, row(0), white)
	if !f.Warm {
		put(fmt.Sprintf("   WARMING UP (%gs): presence not reported yet", p.cfg.Warmup), x, row(0), orange)
	}
	// Line 2: motion energy and presence level as bars; the level's bar
	// marks where presence switches on and off.
	x = put(fmt.Sprintf("motion %.2f", f.Motion), x0, row(1), white)
	bar(&p.strip, image.Rect(x0+130, row(1)-13, x0+330, row(1)+1), float64(f.Motion), yellow, nil)
	x = put(fmt.Sprintf("level %.2f", f.Level), x1-300, row(1), white)
	bar(&p.strip, image.Rect(x1-180, row(1)-13, x1+20, row(1)+1), float64(f.Level), green,
		[]float64{vision.PresenceOff, vision.PresenceOn})
	if f.Presence {
		put("PRESENCE", x1+40, row(1), green)
	} else {
		put("nobody", x1+40, row(1), grey)
	}
	put(fmt.Sprintf("(on above %.1f, off below %.1f)", vision.PresenceOn, vision.PresenceOff), x1+150, row(1), grey)
	_ = x
	// Line 3: light and the silhouette.
	if f.LightChange {
		x = put(fmt.Sprintf("LIGHT CHANGE: normalised, gain %.2f", f.Gain), x0, row(2), orange)
	} else {
		x = put(fmt.Sprintf("light steady, gain %.2f", f.Gain), x0, row(2), white)
	}
	put(fmt.Sprintf("foreground %.1f%% of the watched area   centroid %.2f, %.2f   flow %+.2f, %+.2f widths/s",
		100*f.Foreground, f.Centroid[0], f.Centroid[1], f.Flow[0], f.Flow[1]), x1-300, row(2), white)
	// Line 4: detection, with the age of its counts.
	switch {
	case !p.cfg.People && !p.cfg.Faces:
		put("people/faces: off (vision.people, vision.faces)", x0, row(3), grey)
	case f.Detected < 0:
		put("people/faces: first detection under way", x0, row(3), grey)
	default:
		put(fmt.Sprintf("people %d   faces %d   (counted %.1f s ago, every %gs)", f.People, f.Faces, f.T-f.Detected, p.cfg.DetectEvery), x0, row(3), white)
	}
	put("q or Esc quits", w-140, row(3), grey)
}

// bar draws v (0..1) as a filled bar in r, with ticks at marks.
func bar(img *gocv.Mat, r image.Rectangle, v float64, c color.RGBA, marks []float64) {
	gocv.Rectangle(img, r, grey, 1)
	fill := r.Inset(2)
	fill.Max.X = fill.Min.X + int(min(max(v, 0), 1)*float64(fill.Dx()))
	if fill.Dx() > 0 {
		gocv.Rectangle(img, fill, c, -1)
	}
	for _, m := range marks {
		x := r.Min.X + int(m*float64(r.Dx()))
		gocv.Line(img, image.Pt(x, r.Min.Y-3), image.Pt(x, r.Max.Y+3), white, 1)
	}
}

// label writes s on a dark box at top-left corner at, legible on any picture.
func label(img *gocv.Mat, s string, at image.Point, c color.RGBA) {
	sz := gocv.GetTextSize(s, gocv.FontHersheySimplex, 0.5, 1)
	gocv.Rectangle(img, image.Rect(at.X, at.Y, at.X+sz.X+10, at.Y+sz.Y+10), color.RGBA{0, 0, 0, 0}, -1)
	gocv.PutTextWithParams(img, s, image.Pt(at.X+5, at.Y+sz.Y+5), gocv.FontHersheySimplex, 0.5, c, 1, gocv.LineAA, false)
}

// outline draws polygons with their name at the first corner.
func outline(img *gocv.Mat, polys []vision.Polygon, w, h int, c color.RGBA, name string) {
	if len(polys) == 0 {
		return
	}
	pts := vision.PolygonPoints(polys, w, h)
	pv := gocv.NewPointsVectorFromPoints(pts)
	defer pv.Close()
	gocv.Polylines(img, pv, true, c, 2)
	for _, poly := range pts {
		at := poly[0]
		at.X = min(max(at.X, 4), w-90)
		at.Y = min(max(at.Y-22, 30), h-24)
		label(img, name, at, c)
	}
}

func (p *preview) Close() {
	for _, m := range []*gocv.Mat{&p.view, &p.mask, &p.dim, &p.white, &p.strip, &p.top, &p.both} {
		m.Close()
	}
}

// previewWindow shows the preview on screen.
type previewWindow struct {
	*preview
	win *gocv.Window
}

func newPreviewWindow(c vision.Config) *previewWindow {
	return &previewWindow{preview: newPreview(c), win: gocv.NewWindow("reverie analyze (q or Esc quits)")}
}

// show displays the drawn preview; it returns false when the user quits.
func (p *previewWindow) show() bool {
	p.win.IMShow(p.both)
	key := p.win.WaitKey(1)
	return key != 'q' && key != 27
}

func (p *previewWindow) Close() {
	p.win.Close()
	p.preview.Close()
}
