package vision

import (
	"testing"

	"gocv.io/x/gocv"
)

// testDetectW is the detection width of these tests: HOG costs about ten
// times less at 400 than at the default 640 (0.23 s against 2.2 s a frame
// on 2 cores), and still finds the nearest walkers of vtest.avi.
const testDetectW = 400

// An offline analyzer counts the people walking in vtest.avi inline, every
// detect_every seconds of frame time, and gives the same counts every run.
func TestDetectOfflineCountsPeople(t *testing.T) {
	checkMats(t)
	const n = 12
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	cfg := DefaultConfig()
	cfg.People = true
	cfg.DetectW = testDetectW
	counts := func() (people []int, at []float64) {
		an := NewAnalyzer(cfg)
		defer an.Close()
		for i := range frames {
			f := an.Analyze(frames[i], float64(i)/clipFPS)
			people, at = append(people, f.People), append(at, f.Detected)
		}
		return people, at
	}
	p1, at := counts()
	p2, _ := counts()
	// The background model starts on the second frame (t 0.1): detections
	// at 0.1 and 1.1 s, carried in between.
	for i, want := range []float64{-1, 0.1, 0.1, 1.1} {
		if k := []int{0, 1, 10, 11}[i]; at[k] < want-1e-9 || at[k] > want+1e-9 {
			t.Errorf("frame %d: counts from t %g, want %g", k, at[k], want)
		}
	}
	most := 0
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("frame %d: %d people, then %d on the same frames: offline detection is not deterministic", i, p1[i], p2[i])
		}
		most = max(most, p1[i])
	}
	t.Logf("people per frame: %v", p1)
	if most == 0 {
		t.Error("HOG found nobody in the first 1.2 s of people walking")
	}
}

// A live analyzer hands frames to its detector and goes on: with the
// detector held up, Analyze keeps returning, and when the detector is free
// it takes the newest frame, not a queue of stale ones. The counts are then
// carried into every frame's Features, and no Mat is left open when it
// stops.
func TestDetectLiveNeverStallsAnalysis(t *testing.T) {
	checkMats(t)
	const n = 60
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	cfg := DefaultConfig()
	cfg.People, cfg.Faces = true, true
	cfg.DetectW = testDetectW
	an := NewLiveAnalyzer(cfg)
	defer an.Close()
	release := make(chan struct{})
	an.live.hold = func() { <-release }

	var lastOffer float64
	for i := range 40 { // 4 s: offers at 0.1, 1.1, 2.1 and 3.1 s
		ti := float64(i) / clipFPS
		f := an.Analyze(frames[i], ti)
		if i >= 1 && (i-1)%clipFPS == 0 {
			lastOffer = ti
		}
		if f.Detected != -1 || f.People != 0 {
			t.Fatalf("frame %d: counts %d from t %g while the detector is held up", i, f.People, f.Detected)
		}
	}
	close(release)
	waitFor(t, "a detection of the newest frame", func() bool {
		_, _, at := an.live.counts()
		return at == lastOffer
	})
	an.live.mu.Lock()
	runs := an.live.runs
	an.live.mu.Unlock()
	if runs > 2 {
		t.Errorf("%d detections for 4 offers while held up: stale frames were queued, not dropped", runs)
	}
	// Carried: every later frame reports them, until the next detection.
	f := an.Analyze(frames[40], 4.0)
	if f.Detected != lastOffer {
		t.Errorf("features carry counts from t %g, want %g", f.Detected, lastOffer)
	}
	t.Logf("people %d, faces %d from t %g after %d detections", f.People, f.Faces, f.Detected, runs)
	if f.People == 0 {
		t.Error("HOG found nobody among the people walking")
	}
}

// A face the cascade can see is counted; outside the regions it is not.
func TestDetectFaces(t *testing.T) {
	checkMats(t)
	img := gocv.IMRead("/usr/share/doc/opencv-doc/examples/data/messi5.jpg", gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		t.Fatal("messi5.jpg (opencv-doc) is missing")
	}
	for _, c := range []struct {
		name    string
		regions []Polygon
		want    bool
	}{{"everywhere", nil, true}, {"bottom strip only", []Polygon{{{0, 0.9}, {1, 0.9}, {1, 1}, {0, 1}}}, false}} {
		cfg := DefaultConfig()
		cfg.Faces, cfg.Regions = true, c.regions
		an := NewAnalyzer(cfg)
		var f *Features
		for i := range 3 {
			f = an.Analyze(img, float64(i))
		}
		an.Close()
		if (f.Faces > 0) != c.want {
			t.Errorf("%s: %d faces", c.name, f.Faces)
		}
	}
}
