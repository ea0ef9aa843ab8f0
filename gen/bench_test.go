package gen

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkGenerate measures ms/frame of each built-in model at 256² and 512²
// twice on the same model and tensors: bare (the ONNX Runtime session alone)
// and through Runner.Step (latent copy, RGBA conversion, publishing). The
// image model's runner is also handed a new camera picture before each
// frame, at its input's size and in OpenCV's BGR as the watcher hands them
// over: copied into PictureBack and published, timed apart as ms/handover
// (the display's work live); its conversion to the input is in Step. The
// ratio of the two ms/frame is the runner's overhead.
//
//	go test -run '^$' -bench Generate -benchtime 10x ./gen/
func BenchmarkGenerate(b *testing.B) {
	for _, kind := range []string{"cppn", "convdecoder", "restyle"} {
		for _, size := range []int{256, 512} {
			c := DefaultConfig()
			c.Model, c.Width, c.Height = "builtin:"+kind, size, size
			m, _, err := c.Open()
			if err != nil {
				b.Fatal(err)
			}
			r := NewRunner(m)
			// As the watcher hands pictures over.
			camera := Picture{Pix: make([]byte, 3*size*size), Width: size, Height: size, Channels: 3, BGR: true}
			for i := range camera.Pix {
				camera.Pix[i] = byte(i * 7)
			}
			z := make([]float32, m.Manifest.Latent.Dim)
			for i := range z {
				z[i] = 0.5
			}
			// Warm up: the first runs select kernels and allocate arenas.
			for i := 0; i < 2; i++ {
				if _, err := r.Step(z); err != nil {
					b.Fatal(err)
				}
			}
			name := fmt.Sprintf("%s/%dx%d", kind, size, size)
			b.Run(name+"/bare", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := m.RunSession(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/frame")
			})
			b.Run(name+"/runner", func(b *testing.B) {
				b.ReportAllocs()
				var hand time.Duration
				for i := 0; i < b.N; i++ {
					if m.Manifest.Image != nil {
						b.StopTimer()
						t := time.Now()
						camera.Pix[0]++
						r.PictureBack().CopyFrom(&camera)
						if err := r.PublishPicture(); err != nil {
							b.Fatal(err)
						}
						hand += time.Since(t)
						b.StartTimer()
					}
					if _, err := r.Step(z); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/frame")
				if m.Manifest.Image != nil {
					b.ReportMetric(float64(hand)/1e6/float64(b.N), "ms/handover")
				}
			})
			r.Close()
		}
	}
}

// BenchmarkConvert is the RGBA conversion alone, the runner's only extra
// work per frame besides publishing.
func BenchmarkConvert(b *testing.B) {
	for _, kind := range []string{"cppn", "convdecoder"} {
		c := DefaultConfig()
		c.Model, c.Width, c.Height = "builtin:"+kind, 512, 512
		m, _, err := c.Open()
		if err != nil {
			b.Fatal(err)
		}
		if err := m.RunSession(); err != nil {
			b.Fatal(err)
		}
		dst := make([]byte, 4*512*512)
		b.Run(kind+"/"+m.Manifest.Output.Layout, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(dst)))
			for i := 0; i < b.N; i++ {
				if err := m.Convert(dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		m.Close()
	}
}

// BenchmarkImageInput is an image model's picture conversion alone, into
// a 512² NCHW input: a picture at the input's size (as the watcher hands
// the camera's over, BGR) and a 4:3 one, cropped and sampled.
func BenchmarkImageInput(b *testing.B) {
	for _, pic := range []struct {
		name string
		w, h int
	}{{"same-size", 512, 512}, {"4:3", 683, 512}} {
		spec := ImageSpec{Input: "picture", Source: SourceCamera, Layout: "NCHW", Range: [2]float32{0, 1}, Width: 512, Height: 512}
		in := newImageInput(spec, make([]float32, 3*512*512))
		p := Picture{Pix: make([]byte, 3*pic.w*pic.h), Width: pic.w, Height: pic.h, Channels: 3, BGR: true}
		b.Run(pic.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p.Pix)))
			for i := 0; i < b.N; i++ {
				if err := in.fill(&p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
