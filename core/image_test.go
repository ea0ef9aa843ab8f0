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
	defer r.Close()
	if err := r.SetInput("strength", 0); err != nil {
		t.Fatal(err)
	}
	spec, _ := r.Image()

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
