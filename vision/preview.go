package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"
)

// Preview draws what the analysis sees, for a technician tuning on site:
// the picture with the regions (green), ignore areas (red), flow arrows and
// centroid over it, beside the foreground mask over a dimmed copy of the
// picture, above a strip of the numbers that matter.
type Preview struct {
	cfg                           Config
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

// NewPreview makes the Mats a preview draws into, once; Close frees them.
func NewPreview(c Config) *Preview {
	p := &Preview{cfg: c}
	for _, m := range []*gocv.Mat{&p.view, &p.mask, &p.dim, &p.white, &p.strip, &p.top, &p.both} {
		*m = gocv.NewMat()
	}
	return p
}

// Draw composes the preview of frame, its features and the analyzer's
// evidence into p.both; fps is how many frames a second are being analysed.
func (p *Preview) Draw(frame gocv.Mat, an *Analyzer, f *Features, fps float64) {
	fg, moving := an.Foreground(), an.Moving()
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
		// The visitors' silhouette from the person network, in magenta:
		// what holds presence while a visitor stands still.
		if pm, ok := an.PersonMask(); ok {
			gocv.Resize(pm, &p.mask, size, 0, 0, gocv.InterpolationNearestNeighbor)
			p.white.SetTo(gocv.NewScalar(255, 60, 255, 0))
			p.white.CopyToWithMask(&p.dim, p.mask)
		}
	}
	for _, img := range []*gocv.Mat{&p.view, &p.dim} {
		outline(img, p.cfg.Regions, vw, vh, green, "region")
		outline(img, p.cfg.Ignore, vw, vh, red, "ignored")
	}
	p.arrows(f, vw, vh)
	DrawBodies(&p.view, f)
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
	if f.Person {
		label(&p.dim, "foreground: white = background model, magenta = visitors, cyan = changed", image.Pt(6, 6), white)
	} else {
		label(&p.dim, "foreground: white = background model, cyan = changed since last frame", image.Pt(6, 6), white)
	}
	gocv.Hconcat(p.view, p.dim, &p.top)
	p.text(f, fps, 2*vw)
	gocv.Vconcat(p.top, p.strip, &p.both)
}

// arrows draws one arrow per flow cell, scaled so a cell whose pixels all
// move at a tenth of the frame width per second gets an arrow two cells
// long (walking pace across a room); still cells get none.
func (p *Preview) arrows(f *Features, vw, vh int) {
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
func (p *Preview) text(f *Features, fps float64, w int) {
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
		[]float64{PresenceOff, PresenceOn})
	if f.Presence {
		put("PRESENCE", x1+40, row(1), green)
	} else {
		put("nobody", x1+40, row(1), grey)
	}
	put(fmt.Sprintf("(on above %.1f, off below %.1f)", PresenceOn, PresenceOff), x1+150, row(1), grey)
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
	case f.Person:
		cost := ""
		if f.PersonMs > 0 {
			cost = fmt.Sprintf(", %.0f ms", f.PersonMs)
		}
		put(fmt.Sprintf("%s: %d visitors, %d in the look %.1f s ago%s   nearest: hands up %.2f  span %.2f  lean %+.2f  height %.2f",
			p.cfg.Person, f.People, f.Seen, f.T-f.Detected, cost, f.HandsUp, f.ArmSpan, f.Lean, f.Height), x0, row(3), white)
	case !p.cfg.People && !p.cfg.Faces:
		put("people/faces: off (people, faces)", x0, row(3), grey)
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
func outline(img *gocv.Mat, polys []Polygon, w, h int, c color.RGBA, name string) {
	if len(polys) == 0 {
		return
	}
	pts := PolygonPoints(polys, w, h)
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

// Picture is the last drawn preview, empty before the first Draw. It stays
// the preview's: the caller neither keeps nor closes it.
func (p *Preview) Picture() *gocv.Mat { return &p.both }

// Close frees the preview's Mats.
func (p *Preview) Close() {
	for _, m := range []*gocv.Mat{&p.view, &p.mask, &p.dim, &p.white, &p.strip, &p.top, &p.both} {
		m.Close()
	}
}

// PreviewWindow shows the preview on screen.
type PreviewWindow struct {
	*Preview
	win *gocv.Window
}

// NewPreviewWindow opens the preview's window.
func NewPreviewWindow(c Config) *PreviewWindow {
	return &PreviewWindow{Preview: NewPreview(c), win: gocv.NewWindow("reverie analyze (q or Esc quits)")}
}

// Show displays the drawn preview; it returns false when the user quits.
func (p *PreviewWindow) Show() bool {
	p.win.IMShow(p.both)
	key := p.win.WaitKey(1)
	return key != 'q' && key != 27
}

// Close closes the window and frees the preview.
func (p *PreviewWindow) Close() {
	p.win.Close()
	p.Preview.Close()
}
