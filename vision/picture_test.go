package vision

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// A vtest frame (768×576, 4:3) as a 16:9 model's picture: scaled to cover
// 320×180 with its aspect kept (320×240; the model crops the rest), BGR
// turned to RGB, a grey frame kept grey; making one per frame allocates
// nothing and leaves no Mat open.
func TestPicturerCoversTheModelSize(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 1)
	defer closeAll(frames)
	f := frames[0]
	pr := NewPicturer()
	defer pr.Close()
	var pic Picture
	if !pr.Make(f, 320, 180, &pic) {
		t.Fatal("a vtest frame made no picture")
	}
	if pic.Width != 320 || pic.Height != 240 || pic.Channels != 3 || len(pic.Pix) != 320*240*3 {
		t.Fatalf("picture %dx%d×%d (%d bytes), want 320x240×3", pic.Width, pic.Height, pic.Channels, len(pic.Pix))
	}
	// The middle pixel, against OpenCV's own resize of the frame.
	ref := gocv.NewMat()
	defer ref.Close()
	gocv.Resize(f, &ref, image.Pt(320, 240), 0, 0, gocv.InterpolationArea)
	bgr := ref.GetVecbAt(120, 160)
	if got := pic.Pix[3*(120*320+160):][:3]; got[0] != bgr[2] || got[1] != bgr[1] || got[2] != bgr[0] {
		t.Errorf("middle pixel %v, want RGB of OpenCV's BGR %v", got, bgr)
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(f, &grey, gocv.ColorBGRToGray)
	if !pr.Make(grey, 100, 100, &pic) || pic.Channels != 1 || pic.Width != 134 || pic.Height != 100 {
		t.Errorf("a grey frame made %dx%d×%d, want 134x100×1", pic.Width, pic.Height, pic.Channels)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if pr.Make(empty, 320, 180, &pic) {
		t.Error("an empty frame made a picture")
	}
	allocs := testing.AllocsPerRun(20, func() { pr.Make(f, 320, 180, &pic) })
	if allocs != 0 {
		t.Errorf("a picture per frame allocates %.1f times; want none", allocs)
	}
}
