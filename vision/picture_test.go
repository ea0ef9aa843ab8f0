package vision

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// A vtest frame (768×576, 4:3) as a 16:9 model's picture: scaled to cover
// 320×180 with its aspect kept (320×240; the model crops the rest), its
// bytes near OpenCV's area average of the frame, flagged BGR so that read
// as RGB they are its RGB; a grey frame kept grey; making one per frame
// allocates nothing and leaves no Mat open.
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
	// OpenCV's area average of the frame, as RGB: the picture is averaged
	// down by two, then resampled, so it is near it, not equal.
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
	// Read blue first, the picture is the reference; read in its own
	// order, it is not: the order shows.
	var asBGR, asRGB float64
	n := 320 * 240
	for k := 0; k < n; k++ {
		px, w := pic.Pix[3*k:3*k+3], want[3*k:3*k+3]
		for c := range 3 {
			asBGR += math.Abs(float64(px[2-c]) - float64(w[c]))
			asRGB += math.Abs(float64(px[c]) - float64(w[c]))
		}
	}
	asBGR /= float64(3 * n)
	asRGB /= float64(3 * n)
	if asBGR > 2 {
		t.Errorf("read blue first, the picture is %.2f levels from OpenCV's area average on average; want within 2", asBGR)
	}
	if asRGB < 4*asBGR+1 {
		t.Errorf("read as RGB the picture is %.2f levels off, read as BGR %.2f: the check cannot tell the orders apart", asRGB, asBGR)
	}
	t.Logf("mean difference from the area average: %.2f levels (%.2f with red and blue swapped)", asBGR, asRGB)
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

// Every way Make scales: under a halving (bilinear alone), by a whole
// factor and then bilinear, and a frame whose sides the factor does not
// divide (area averaging at once), each near OpenCV's area average.
func TestPicturerScalesNearTheAreaAverage(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 1)
	defer closeAll(frames)
	odd := frames[0].Region(image.Rect(0, 0, 767, 575))
	defer odd.Close()
	pr := NewPicturer()
	defer pr.Close()
	for _, tc := range []struct {
		name   string
		frame  gocv.Mat
		w, h   int
		pw, ph int
	}{
		{"768×576 to cover 512²", frames[0], 512, 512, 683, 512},
		{"768×576 to cover 160×90", frames[0], 160, 90, 160, 120},
		{"767×575 to cover 320×180", odd, 320, 180, 320, 240},
	} {
		var pic Picture
		if !pr.Make(tc.frame, tc.w, tc.h, &pic) {
			t.Errorf("%s: no picture", tc.name)
			continue
		}
		if pic.Width != tc.pw || pic.Height != tc.ph {
			t.Errorf("%s: %dx%d, want %dx%d", tc.name, pic.Width, pic.Height, tc.pw, tc.ph)
			continue
		}
		ref := gocv.NewMat()
		gocv.Resize(tc.frame, &ref, image.Pt(tc.pw, tc.ph), 0, 0, gocv.InterpolationArea)
		want, err := ref.DataPtrUint8()
		if err != nil {
			ref.Close()
			t.Fatal(err)
		}
		diff := 0.0
		for i, v := range pic.Pix {
			diff += math.Abs(float64(v) - float64(want[i]))
		}
		ref.Close()
		if diff /= float64(len(pic.Pix)); diff > 2.5 {
			t.Errorf("%s: %.2f levels from the area average on average; want within 2.5", tc.name, diff)
		}
	}
}
