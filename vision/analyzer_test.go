package vision

import (
	"testing"

	"gocv.io/x/gocv"
)

// People walking in vtest.avi read as motion, and every Mat is closed.
func TestAnalyzerOnVtest(t *testing.T) {
	base := gocv.MatProfile.Count()
	cfg := DefaultConfig()
	cfg.AtEnd = "stop"
	src, err := OpenSource(cfg, SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	an := NewAnalyzer(cfg)
	frame := gocv.NewMat()
	moving, present := 0, 0
	const n = 200
	for i := 0; i < n; i++ {
		if err := src.Read(&frame); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		f := an.Analyze(frame, float64(i)/src.FPS())
		if f.Motion > 0.01 {
			moving++
		}
		if f.Presence {
			present++
		}
	}
	frame.Close()
	an.Close()
	src.Close()
	if moving < n*8/10 {
		t.Errorf("only %d of %d frames of people walking read as motion", moving, n)
	}
	if present < n*7/10 {
		t.Errorf("presence in only %d of %d frames", present, n)
	}
	if c := gocv.MatProfile.Count(); c != base {
		t.Errorf("Mat count %d after the run, %d before: a Mat leaked", c, base)
	}
}

func TestConfigValidation(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.AtEnd = "rewind"
	if err := c.Validate(); err == nil {
		t.Error("at_end rewind accepted")
	}
}
