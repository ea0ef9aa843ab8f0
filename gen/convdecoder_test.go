package gen

import (
	"math"
	"testing"
)

// The conv decoder loads in ONNX Runtime at two sizes (one that is not a
// power of two, so the crop is exercised) and renders structured pictures:
// not flat, not noise, and different for another latent.
func TestConvDecoderRoundTrip(t *testing.T) {
	for _, size := range [][2]int{{64, 64}, {200, 120}} {
		man, err := DefaultConvDecoder(5, size[0], size[1]).Build()
		if err != nil {
			t.Fatal(err)
		}
		if man.Output.Layout != "NCHW" || man.Output.Range != [2]float32{-1, 1} {
			t.Errorf("convdecoder output %s %v, want NCHW [-1, 1] as a StyleGAN export", man.Output.Layout, man.Output.Range)
		}
		m, _, err := Load(man, SessionConfig{Provider: "cpu"})
		if err != nil {
			t.Fatal(err)
		}
		a := make([]byte, 4*size[0]*size[1])
		b := make([]byte, len(a))
		z := make([]float32, man.Latent.Dim)
		for i := range z {
			z[i] = float32(math.Cos(float64(i) * 1.7))
		}
		if err := m.Run(z, a); err != nil {
			t.Fatal(err)
		}
		for i := range z {
			z[i] = float32(math.Sin(float64(i) * 0.9))
		}
		if err := m.Run(z, b); err != nil {
			t.Fatal(err)
		}
		// Truncation 0 pulls every latent to the same, average picture.
		if err := m.SetInput("psi", 0); err != nil {
			t.Fatal(err)
		}
		c := make([]byte, len(a))
		if err := m.Run(z, c); err != nil {
			t.Fatal(err)
		}
		z[0] = 9
		d := make([]byte, len(a))
		m.Run(z, d)
		m.Close()
		checkStructured(t, "convdecoder", size, a)
		if diff := meanAbsDiff(a, b); diff < 5 {
			t.Errorf("%v: another latent changed the image by only %.2f", size, diff)
		}
		if diff := meanAbsDiff(c, d); diff != 0 {
			t.Errorf("%v: with truncation 0 the latent still changes the image by %.2f", size, diff)
		}
	}
}

// checkStructured fails a picture that is flat, saturated or noise. Noise has
// neighbouring pixels about as different as any two pixels; a picture with
// structure has them much closer.
func checkStructured(t *testing.T, name string, size [2]int, rgba []byte) {
	t.Helper()
	mean, std := lumaStats(rgba)
	if std < 10 {
		t.Errorf("%s %v: flat image, luma std %.1f", name, size, std)
	}
	if mean < 20 || mean > 235 {
		t.Errorf("%s %v: mean luma %.1f, expected mid-range", name, size, mean)
	}
	w, h := size[0], size[1]
	luma := func(x, y int) float64 {
		p := rgba[4*(y*w+x):]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var s2 float64
	for y := 0; y < h; y++ {
		for x := 1; x < w; x++ {
			d := luma(x, y) - luma(x-1, y)
			s2 += d * d
		}
	}
	neighbour := math.Sqrt(s2 / float64(h*(w-1)))
	// For white noise neighbour ≈ √2·std.
	t.Logf("%s %v: neighbour/std %.3f", name, size, neighbour/std)
	if ratio := neighbour / std; ratio > 0.8 {
		t.Errorf("%s %v: neighbouring pixels differ by %.2f of the picture's spread: noise, not structure", name, size, ratio)
	}
}
