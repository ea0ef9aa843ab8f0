package personnet_test

import (
	"os"
	"testing"

	"gocv.io/x/gocv"

	"reverie/gen"
	"reverie/internal/personnet"
	"reverie/vision"
)

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// vtestFrames reads n frames of the sample clip, every step-th. The caller
// closes them.
func vtestFrames(t testing.TB, n, step int) []gocv.Mat {
	t.Helper()
	cfg := vision.DefaultConfig()
	cfg.AtEnd = "stop"
	src, err := vision.OpenSource(cfg, vision.SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := make([]gocv.Mat, 0, n)
	m := gocv.NewMat()
	defer m.Close()
	for i := 0; len(out) < n; i++ {
		if err := src.Read(&m); err != nil {
			closeAll(out)
			t.Fatalf("%s frame %d: %v", vision.SampleClip, i, err)
		}
		if i%step == 0 {
			out = append(out, m.Clone())
		}
	}
	return out
}

func closeAll(ms []gocv.Mat) {
	for i := range ms {
		ms[i].Close()
	}
}

var nets = personnet.Nets{}
