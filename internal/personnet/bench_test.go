package personnet_test

import (
	"testing"

	"reverie/vision"
)

// BenchmarkLook is one look of each person network at a vtest frame
// (768×576) through vision, beside a bare ONNX Runtime run of the same
// network at the same size: the difference is vision's preparing and
// reading (resize, colour, scaling, pose decoding). The looks run on the
// person goroutine (live) or every detect_every (offline), never per
// analysed frame.
func BenchmarkLook(b *testing.B) {
	frames := vtestFrames(b, 1, 1)
	defer closeAll(frames)
	for _, c := range []struct {
		person string
		w, h   int
	}{{vision.PersonPoseNet, 769, 577}, {vision.PersonSelfie, 256, 256}} {
		b.Run(c.person+"/bare", func(b *testing.B) {
			net, _, err := nets.Open(c.person, c.w, c.h)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			_ = net.Run()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := net.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.person+"/look", func(b *testing.B) {
			cfg := vision.DefaultConfig()
			cfg.Person, cfg.Nets = c.person, nets
			pf, err := vision.NewPersonFinder(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer pf.Close()
			if _, err := pf.Find(frames[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := pf.Find(frames[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
