package core

import (
	"context"
	"testing"
	"time"

	"reverie/gen"
	"reverie/vision"
)

// Live, the camera's picture goes from the watcher's mailbox straight into
// the runner's next picture, in OpenCV's channel order, and the model's
// input reads it as RGB: builtin:restyle turned down to the picture itself
// (strength 0) makes each channel of the frame from the same channel of
// the picture.
func TestLiveHandsTheCameraPictureOver(t *testing.T) {
	r, spec := plainRestyle(t)

	vc := vision.DefaultConfig()
	vc.Person = vision.PersonOff
	src, err := vision.OpenSource(vc, vision.SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	w := vision.NewWatcher(vc, src, nil)
	w.WantPictures(spec.Width, spec.Height)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var pic vision.Picture
	deadline := time.Now().Add(20 * time.Second)
	for _, ok := w.LatestPicture(&pic, 0); !ok; _, ok = w.LatestPicture(&pic, 0) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the watcher made no picture in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	w.LatestPicture(&pic, 0) // the newest, now that none comes after it
	if !pic.BGR || pic.Channels != 3 || pic.Width != spec.Width || pic.Height != spec.Height {
		t.Fatalf("the watcher's picture is %dx%d×%d BGR %v, want %dx%d×3 BGR", pic.Width, pic.Height, pic.Channels, pic.BGR, spec.Width, spec.Height)
	}

	l := &live{runner: r, watcher: w, picW: spec.Width, picH: spec.Height}
	feed := newImageFeed()
	if err := feed.hand(nil, r, spec, l, nil, false); err != nil {
		t.Fatal(err)
	}
	f, err := r.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	// At strength 0 each channel passes through the same increasing curve:
	// learn it from green (the same in either order), then red and blue
	// must follow it from their own bytes, not from each other's.
	var curve [256]int
	for i := range curve {
		curve[i] = -1
	}
	n := f.Width * f.Height
	for k := 0; k < n; k++ {
		curve[pic.Pix[3*k+1]] = int(f.Pix[4*k+1])
	}
	apart := 0 // pixels whose red and blue would come out apart
	for k := 0; k < n; k++ {
		px, bgr := f.Pix[4*k:4*k+3], pic.Pix[3*k:3*k+3]
		red, blue := curve[bgr[2]], curve[bgr[0]]
		if red < 0 || blue < 0 {
			continue
		}
		if d := int(px[0]) - red; d < -1 || d > 1 {
			t.Fatalf("frame pixel %d is %v from the camera's BGR %v: red %d, want about %d", k, px, bgr, px[0], red)
		}
		if d := int(px[2]) - blue; d < -1 || d > 1 {
			t.Fatalf("frame pixel %d is %v from the camera's BGR %v: blue %d, want about %d", k, px, bgr, px[2], blue)
		}
		if red-blue > 2 || blue-red > 2 {
			apart++
		}
	}
	if apart < n/20 {
		t.Fatalf("only %d of %d pixels tell red from blue: the check cannot see the channel order", apart, n)
	}
	// Nothing new from the watcher: nothing to hand over.
	if l.picture(r.PictureBack(), spec) {
		t.Error("the same camera picture was handed over twice")
	}
}

// rampScreen stands in for scene.Game's read-back: red rises across the
// picture, green down it, blue stays put (read as BGR, red would too).
type rampScreen struct {
	blue  byte
	reads int
}

func (s *rampScreen) ReadPicture(pix []byte, w, h int) {
	s.reads++
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 4 * (y*w + x)
			pix[i], pix[i+1], pix[i+2], pix[i+3] = byte(255*x/(w-1)), byte(255*y/(h-1)), s.blue, 255
		}
	}
}

// The feedback source reads the screen straight into the runner's next
// picture, once per generator frame shown, and the model sees it as RGB:
// builtin:restyle at strength 0 keeps red rising across and green down.
func TestFeedbackHandsTheScreenOver(t *testing.T) {
	r, spec := plainRestyle(t)
	spec.Source = gen.SourceFeedback
	scr := &rampScreen{blue: 40}
	feed := newImageFeed()
	if err := feed.hand(scr, r, spec, nil, nil, true); err != nil {
		t.Fatal(err)
	}
	f, err := r.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	w, h := f.Width, f.Height
	at := func(x, y, c int) int { return int(f.Pix[4*(y*w+x)+c]) }
	if !(at(w-1, h/2, 0) > at(0, h/2, 0)+40 && at(w/2, h-1, 1) > at(w/2, 0, 1)+40) {
		t.Fatalf("the frame does not follow the screen: red %d → %d across, green %d → %d down", at(0, h/2, 0), at(w-1, h/2, 0), at(w/2, 0, 1), at(w/2, h-1, 1))
	}
	// No new generator frame shown: the screen is not read again.
	if err := feed.hand(scr, r, spec, nil, nil, false); err != nil || scr.reads != 1 {
		t.Errorf("after one frame shown the screen was read %d times (err %v), want once", scr.reads, err)
	}
	// A new frame shown: read again, into the runner's buffers, allocating nothing.
	if a := testing.AllocsPerRun(5, func() { feed.hand(scr, r, spec, nil, nil, true) }); a != 0 {
		t.Errorf("handing the screen over allocates %v times", a)
	}
}

// plainRestyle is builtin:restyle at 64×48 turned down to the picture
// itself (strength 0): each channel of a frame follows the same channel of
// the picture through one increasing curve. The test's cleanup closes it.
func plainRestyle(t *testing.T) (*gen.Runner, gen.ImageSpec) {
	t.Helper()
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Model, gc.Width, gc.Height = "builtin:restyle", 64, 48
	m, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	r := gen.NewRunner(m)
	t.Cleanup(r.Close)
	if err := r.SetInput("strength", 0); err != nil {
		t.Fatal(err)
	}
	spec, _ := r.Image()
	return r, spec
}
