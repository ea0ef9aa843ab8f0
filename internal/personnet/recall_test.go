package personnet_test

import (
	"image"
	"reverie/internal/sample"
	"testing"

	"gocv.io/x/gocv"

	"reverie/vision"
)

// walkers finds the people in each frame independently of the networks:
// blobs far from the per-pixel median of the clip (the empty street, since
// nobody stands still for long), as centres normalised 0..1.
func walkers(t *testing.T, frames []gocv.Mat, median gocv.Mat) [][][2]float32 {
	const w, h, minArea = 384, 288, 80
	small, grey, diff, labels, stats, cents := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer func() {
		for _, m := range []*gocv.Mat{&small, &grey, &diff, &labels, &stats, &cents} {
			m.Close()
		}
	}()
	k := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(5, 5))
	defer k.Close()
	out := make([][][2]float32, len(frames))
	for i, f := range frames {
		gocv.Resize(f, &small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		gocv.CvtColor(small, &grey, gocv.ColorBGRToGray)
		gocv.AbsDiff(grey, median, &diff)
		gocv.Threshold(diff, &diff, 30, 255, gocv.ThresholdBinary)
		gocv.MorphologyEx(diff, &diff, gocv.MorphOpen, k)
		gocv.MorphologyEx(diff, &diff, gocv.MorphClose, k)
		n := gocv.ConnectedComponentsWithStats(diff, &labels, &stats, &cents)
		for c := 1; c < n; c++ {
			if stats.GetIntAt(c, int(gocv.CC_STAT_AREA)) < minArea {
				continue
			}
			out[i] = append(out[i], [2]float32{float32(cents.GetDoubleAt(c, 0)) / w, float32(cents.GetDoubleAt(c, 1)) / h})
		}
	}
	return out
}

// medianGrey is the per-pixel median of the frames' grey pictures at w×h.
func medianGrey(frames []gocv.Mat, w, h int) gocv.Mat {
	med := make([]byte, w*h)
	sample.Median(med, sample.Grey(frames, w, h))
	m, _ := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8U, med)
	return m
}

// TestRecallVtest measures each person network's recall on the wide view of
// vtest.avi: the share of walkers whose centre the network's evidence
// covers. PoseNet at the clip's own resolution must see most of them; the
// close-up segmenter is expected to miss most (it suits a kiosk camera).
func TestRecallVtest(t *testing.T) {
	frames := vtestFrames(t, 40, 19)
	defer closeAll(frames)
	med := medianGrey(frames, 384, 288)
	defer med.Close()
	truth := walkers(t, frames, med)
	for _, c := range []struct {
		person string
		min    float64
	}{{vision.PersonPoseNet, 0.75}, {vision.PersonSelfie, 0}} {
		cfg := vision.DefaultConfig()
		cfg.Person, cfg.Nets = c.person, nets
		pf, err := vision.NewPersonFinder(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var found, total, ghosts int
		for i := 0; i < len(frames); i += 3 {
			n, err := pf.Find(frames[i])
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range truth[i] {
				total++
				if pf.Covers(w[0], w[1]) {
					found++
				}
			}
			ghosts += max(0, n-len(truth[i]))
		}
		pf.Close()
		recall := float64(found) / float64(max(total, 1))
		t.Logf("%s: recall %.2f (%d of %d walkers in %d frames), %d more people than walkers", c.person, recall, found, total, (len(frames)+2)/3, ghosts)
		if total < 20 {
			t.Fatalf("ground truth found only %d walkers", total)
		}
		if recall < c.min {
			t.Errorf("%s recall %.2f on vtest, want at least %.2f", c.person, recall, c.min)
		}
	}
}
