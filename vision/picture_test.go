package vision

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// A vtest frame (768×576, 4:3) as a 16:9 model's picture: scaled to cover
// 320×180 with its aspect kept (320×240; the model crops the rest), its
// bytes OpenCV's own resize of the frame, flagged BGR so that read as
// RGB they are OpenCV's RGB of it; a grey frame kept grey; making one per
// frame allocates nothing and leaves no Mat open.
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
	if pic.Width != 320 || pic.Height != 240 || pic.Channels != 3 || !pic.BGR || len(pic.Pix) != 320*240*3 {
		t.Fatalf("picture %dx%d×%d BGR %v (%d bytes), want 320x240×3 BGR", pic.Width, pic.Height, pic.Channels, pic.BGR, len(pic.Pix))
	}
	ref := gocv.NewMat()
	defer ref.Close()
	gocv.Resize(f, &ref, image.Pt(320, 240), 0, 0, gocv.InterpolationArea)
	rgb := gocv.NewMat()
	defer rgb.Close()
	gocv.CvtColor(ref, &rgb, gocv.ColorBGRToRGB)
	want, err := rgb.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	swapped := 0 // pixels whose red and blue differ: the order shows
	for k := 0; k < 320*240; k++ {
		px, w := pic.Pix[3*k:3*k+3], want[3*k:3*k+3]
		if px[2] != w[0] || px[1] != w[1] || px[0] != w[2] {
			t.Fatalf("pixel %d,%d read blue first is %v, want OpenCV's RGB %v", k%320, k/320, []byte{px[2], px[1], px[0]}, w)
		}
		if w[0] != w[2] {
			swapped++
		}
	}
	if swapped < 320*240/10 {
		t.Fatalf("only %d pixels of the frame have red apart from blue: the check cannot tell the orders apart", swapped)
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(f, &grey, gocv.ColorBGRToGray)
	if !pr.Make(grey, 100, 100, &pic) || pic.Channels != 1 || pic.BGR || pic.Width != 134 || pic.Height != 100 {
		t.Errorf("a grey frame made %dx%d×%d BGR %v, want 134x100×1", pic.Width, pic.Height, pic.Channels, pic.BGR)
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
