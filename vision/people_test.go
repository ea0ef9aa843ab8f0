package vision

import (
	"errors"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// fakeSelfie stands in for the selfie network at vision's boundary: its mask
// marks a person where box says (normalised x0, y0, x1, y1), or nobody when
// box is empty, and Run waits on gate when it is set.
type fakeSelfie struct {
	box  [4]float32
	gate chan struct{}
	in   []float32
	mask []float32
	runs int
}

func (f *fakeSelfie) Input() []float32 { return f.in }
func (f *fakeSelfie) Run() error {
	if f.gate != nil {
		<-f.gate
	}
	f.runs++
	clear(f.mask)
	for y := int(f.box[1] * selfieSize); y < int(f.box[3]*selfieSize); y++ {
		for x := int(f.box[0] * selfieSize); x < int(f.box[2]*selfieSize); x++ {
			f.mask[y*selfieSize+x] = 1
		}
	}
	return nil
}
func (f *fakeSelfie) OutputByName(name string) ([]float32, []int64, bool) {
	if name != "mask" {
		return nil, nil, false
	}
	return f.mask, []int64{1, selfieSize, selfieSize, 1}, true
}
func (f *fakeSelfie) Close() {}

// fakeNets opens net, or fails with err.
type fakeNets struct {
	net *fakeSelfie
	err error
}

func (n fakeNets) Open(name string, w, h int) (PersonNet, [2]float32, error) {
	if n.err != nil {
		return nil, [2]float32{}, n.err
	}
	n.net.in = make([]float32, w*h*3)
	n.net.mask = make([]float32, selfieSize*selfieSize)
	return n.net, [2]float32{0, 1}, nil
}

func selfieConfig(nets PersonNets) Config {
	cfg := DefaultConfig()
	cfg.Person, cfg.Nets = PersonSelfie, nets
	return cfg
}

// Without the networks (not installed), the analysis is today's motion
// analysis, frame for frame.
func TestPersonFallback(t *testing.T) {
	checkMats(t)
	const n = 60
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	clip := func(i int, dst *gocv.Mat) { frames[i].CopyTo(dst) }
	want := analyse(DefaultConfig(), n, clip)
	got := analyse(selfieConfig(fakeNets{err: errors.New("trained network selfie: not installed: run `make setup`")}), n, clip)
	for i := range n {
		if got.presence[i] != want.presence[i] || got.level[i] != want.level[i] || got.centroid[i] != want.centroid[i] {
			t.Fatalf("frame %d: without the network presence %v level %.3f centroid %v, motion alone %v %.3f %v",
				i, got.presence[i], got.level[i], got.centroid[i], want.presence[i], want.level[i], want.centroid[i])
		}
	}
}

// A person the network sees from the start of a still scene (a poster)
// belongs to the room: absent. The same person in a scene where people
// walk arrived moving: present, with their silhouette in the mask.
func TestPersonPosterIsRoom(t *testing.T) {
	checkMats(t)
	const n = 80
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	still := newNoisy(frames[0], 3)
	defer still.Close()
	poster := &fakeSelfie{box: [4]float32{0.4, 0.3, 0.6, 0.9}}
	r := analyse(selfieConfig(fakeNets{net: poster}), n, func(i int, dst *gocv.Mat) { still.frame(dst, 1) })
	if c := count(n, r.firstWarm, func(i int) bool { return r.presence[i] }); c > 0 {
		t.Errorf("a poster the network sees from the start read as present in %d of %d frames", c, n-r.firstWarm)
	}
	if poster.runs < n/clipFPS-1 {
		t.Errorf("the network looked %d times in %d s, want once a second (detect_every)", poster.runs, n/clipFPS)
	}

	// People walk in vtest; the fake network puts one where they are.
	truth := groundTruth(frames)
	walker := &fakeSelfie{}
	an := NewAnalyzer(selfieConfig(fakeNets{net: walker}))
	defer an.Close()
	present, inMask := 0, 0
	for i := range n {
		if c := truth[i]; !math.IsNaN(c[0]) {
			x, y := float32(c[0]), float32(c[1])
			walker.box = [4]float32{x - 0.05, y - 0.15, x + 0.05, y + 0.15}
		}
		f := an.Analyze(frames[i], float64(i)/clipFPS)
		if i < 3*clipFPS {
			continue
		}
		if f.Presence && f.Person && f.People == 1 {
			present++
		}
		// The middle of the person is in the silhouette.
		if x, y := int(f.PoseCentroid[0]*float32(f.MaskW)), int(f.PoseCentroid[1]*float32(f.MaskH)); f.Mask[y*f.MaskW+x] == 255 {
			inMask++
		}
	}
	if present < (n-3*clipFPS)*9/10 || inMask < (n-3*clipFPS)*9/10 {
		t.Errorf("walkers the network sees: present with one person in %d and in the mask in %d of %d frames", present, inMask, n-3*clipFPS)
	}
}

// A live analyzer hands frames to the network in its own goroutine: a
// network that takes forever never stalls the analysis, and its result
// arrives once it is done.
func TestPersonLiveNeverStalls(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 40)
	defer closeAll(frames)
	net := &fakeSelfie{box: [4]float32{0.3, 0.2, 0.7, 0.9}, gate: make(chan struct{})}
	an := NewLiveAnalyzer(selfieConfig(fakeNets{net: net}))
	defer an.Close()
	done := make(chan bool)
	go func() {
		person := false
		for i := range frames {
			person = person || an.Analyze(frames[i], float64(i)/clipFPS).Person
		}
		done <- person
	}()
	select {
	case person := <-done:
		if person {
			t.Error("person evidence before the network finished a look")
		}
	case <-time.After(60 * time.Second):
		close(net.gate)
		<-done
		t.Fatal("Analyze waited for the person network")
	}
	close(net.gate)
	// The look finishes; the next frame takes it.
	for i := 0; i < 1000; i++ {
		if an.Analyze(frames[i%len(frames)], float64(len(frames)+i)/clipFPS).Person {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the network's look never reached the features")
}
