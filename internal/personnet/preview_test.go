package personnet_test

import (
	"image"
	"testing"

	"gocv.io/x/gocv"

	"reverie/vision"
	"reverie/vision/pose"
)

// TestPreviewDrawsBodies: a visitor walks in and stands; analyze's preview
// (and so -snapshot) draws their skeleton over the camera panel, in the
// visitor's colour and where they stand, and their silhouette from the
// network in magenta on the mask panel; the features carry the body the
// panel draws.
func TestPreviewDrawsBodies(t *testing.T) {
	checkMats(t)
	ft := newFootage(t)
	defer ft.Close()
	sc := newScene(ft.room.Cols(), ft.room.Rows())
	defer sc.Close()
	const enter, stop, end = 2 * fps, 4 * fps, 6 * fps
	visible := -1
	clip, x1 := ft.walkIn(sc, enter, stop, &visible)
	cfg := person(vision.PersonPoseNet)
	cfg.Warmup = 1
	an := vision.NewAnalyzer(cfg)
	defer an.Close()
	pv := vision.NewPreview(cfg)
	defer pv.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	var f *vision.Features
	for i := 0; i < end; i++ {
		clip(i, &frame)
		f = an.Analyze(frame, float64(i)/fps)
	}
	pv.Draw(frame, an, f, fps)
	// The walker stands with the patch's left edge at x1. (A track of
	// where they walked may linger for a missed look or two.)
	wx0, wx1 := float32(x1)/float32(ft.room.Cols()), float32(x1+ft.walker.patch.Cols())/float32(ft.room.Cols())
	var b *vision.Body
	for i := range f.NBodies {
		c := &f.Bodies[i]
		if cx := (c.Box[0] + c.Box[2]) / 2; c.Visitor && c.HasPose && cx > wx0 && cx < wx1 {
			b = c
		}
	}
	if b == nil {
		t.Fatalf("features carry %d bodies (%+v), none a visitor with a pose standing at x %.2f..%.2f", f.NBodies, f.Bodies[:f.NBodies], wx0, wx1)
	}
	if b.Keypoints[pose.LeftShoulder].Score < 0.2 && b.Keypoints[pose.RightShoulder].Score < 0.2 {
		t.Errorf("no shoulder found on the standing visitor: %+v", b.Keypoints)
	}

	pic := pv.Picture()
	img, err := pic.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	rgba, _ := img.(*image.RGBA)
	if rgba == nil {
		t.Fatalf("preview picture is %T, want RGBA", img)
	}
	half := pic.Cols() / 2
	ph := half * ft.room.Rows() / ft.room.Cols()
	// count the pixels near colour (r, g, b) in the top panels' columns
	// x0..x1, inside or outside every visitor's box (grown by a margin).
	inBox := func(x, y int) bool {
		for i := range f.NBodies {
			c := &f.Bodies[i]
			r := image.Rect(int(c.Box[0]*float32(half)), int(c.Box[1]*float32(ph)), int(c.Box[2]*float32(half)), int(c.Box[3]*float32(ph))).Inset(-20)
			if c.Visitor && image.Pt(x, y).In(r) {
				return true
			}
		}
		return false
	}
	count := func(r, g, bl uint8, px0, px1 int, inside bool) int {
		n := 0
		for y := 0; y < ph; y++ {
			for x := px0; x < px1; x++ {
				c := rgba.RGBAAt(x, y)
				if absd(c.R, r) < 30 && absd(c.G, g) < 30 && absd(c.B, bl) < 30 && inBox(x%half, y) == inside {
					n++
				}
			}
		}
		return n
	}
	sx0, sx1 := int(b.Box[0]*float32(half)), int(b.Box[2]*float32(half))+1
	green := count(80, 255, 120, sx0, sx1, true)
	greenElsewhere := count(80, 255, 120, 0, half, false)
	magenta := count(255, 60, 255, half+sx0, half+sx1, true)
	t.Logf("skeleton pixels over the visitor %d (outside visitors' boxes %d); magenta silhouette pixels %d", green, greenElsewhere, magenta)
	if green < 40 {
		t.Errorf("the camera panel shows %d visitor-green pixels over the visitor, want a skeleton (≥ 40)", green)
	}
	if greenElsewhere > 0 {
		t.Errorf("visitor-green pixels outside every visitor's box: %d", greenElsewhere)
	}
	if magenta < 100 {
		t.Errorf("the mask panel shows %d magenta pixels over the visitor, want their silhouette from the network", magenta)
	}

	// The panel's camera view (vision.DrawView, at the camera's size)
	// draws the same skeleton and the silhouette.
	view := frame.Clone()
	defer view.Close()
	vision.DrawView(&view, f)
	vimg, err := view.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	vr := vimg.(*image.RGBA)
	vx0, vx1 := int(b.Box[0]*float32(view.Cols())), int(b.Box[2]*float32(view.Cols()))+1
	vy0, vy1 := int(b.Box[1]*float32(view.Rows())), int(b.Box[3]*float32(view.Rows()))+1
	vg, vm := 0, 0
	for y := max(vy0, 0); y < min(vy1, view.Rows()); y++ {
		for x := max(vx0, 0); x < min(vx1, view.Cols()); x++ {
			c := vr.RGBAAt(x, y)
			if absd(c.R, 80) < 30 && absd(c.G, 255) < 30 && absd(c.B, 120) < 30 {
				vg++
			}
			if c.R > 150 && c.B > 150 && c.G < 140 {
				vm++
			}
		}
	}
	t.Logf("camera view: %d skeleton pixels, %d magenta-tinted pixels over the visitor", vg, vm)
	if vg < 40 || vm < 100 {
		t.Errorf("the panel's camera view shows %d skeleton and %d silhouette pixels over the visitor, want ≥ 40 and ≥ 100", vg, vm)
	}
}

func absd(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
