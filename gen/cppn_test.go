package gen

import (
	"math"
	"testing"
)

// A CPPN written by the builder loads in ONNX Runtime and renders a picture
// with structure: not flat, not saturated, and different for another latent.
func TestCPPNRoundTrip(t *testing.T) {
	for _, size := range [][2]int{{64, 48}, {200, 120}} {
		for _, look := range LookNames() {
			c := DefaultCPPN(3, size[0], size[1])
			c.Look = look
			m := loadCPPN(t, c)
			man := m.Manifest
			a := make([]byte, 4*size[0]*size[1])
			b := make([]byte, len(a))
			z := make([]float32, man.Latent.Dim)
			if err := m.Run(z, a); err != nil {
				t.Fatal(err)
			}
			for i := range z {
				z[i] = float32(math.Sin(float64(i))) * 1.5
			}
			if err := m.Run(z, b); err != nil {
				t.Fatal(err)
			}
			m.Close()
			checkStructured(t, "cppn "+look, size, a)
			if d := meanAbsDiff(a, b); d < 5 {
				t.Errorf("%s %v: another latent changed the image by only %.2f", look, size, d)
			}
		}
	}
}

func lumaStats(rgba []byte) (mean, std float64) {
	n := len(rgba) / 4
	var s, s2 float64
	for i := 0; i < n; i++ {
		l := 0.299*float64(rgba[4*i]) + 0.587*float64(rgba[4*i+1]) + 0.114*float64(rgba[4*i+2])
		s += l
		s2 += l * l
	}
	mean = s / float64(n)
	return mean, math.Sqrt(s2/float64(n) - mean*mean)
}

func meanAbsDiff(a, b []byte) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += math.Abs(d)
	}
	return s / float64(len(a))
}

// The tiled form renders the picture the untiled one does, across tile
// edges (a 256-wide frame is cut every 32 rows) and for every look.
func TestCPPNTiledMatchesPlain(t *testing.T) {
	for _, look := range LookNames() {
		var pix [2][]byte
		for i, plain := range []bool{false, true} {
			c := DefaultCPPN(5, 256, 100)
			c.Look, c.Plain = look, plain
			m := loadCPPN(t, c)
			z := make([]float32, m.Manifest.Latent.Dim)
			for k := range z {
				z[k] = float32(math.Cos(float64(k))) * 1.2
			}
			pix[i] = make([]byte, 4*256*100)
			err := m.Run(z, pix[i])
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		worst := 0
		for k := range pix[0] {
			worst = max(worst, int(pix[0][k])-int(pix[1][k]), int(pix[1][k])-int(pix[0][k]))
		}
		if worst > 1 {
			t.Errorf("%s: tiled and untiled pictures differ by up to %d levels, want at most 1 (rounding)", look, worst)
		}
		checkStructured(t, "cppn tiled "+look, [2]int{256, 100}, pix[0])
	}
}

// The frame rendered in bands, one session each side by side, is the
// frame rendered whole, however the rows divide; generator.threads 1 runs
// it whole.
func TestCPPNBands(t *testing.T) {
	render := func(bands, threads int) ([]byte, int) {
		c := DefaultCPPN(9, 256, 101) // 101 rows: bands of unequal height
		c.Bands = bands
		man, err := c.Build()
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Load(man, SessionConfig{Provider: "cpu", Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		z := make([]float32, man.Latent.Dim)
		for k := range z {
			z[k] = float32(math.Sin(float64(3*k))) * 1.3
		}
		pix := make([]byte, 4*256*101)
		if err := m.Run(z, pix); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(3, func() { m.Run(z, pix) }); a != 0 && len(m.bands) > 0 {
			t.Errorf("%d bands: a frame allocates %v times", bands, a)
		}
		return pix, len(m.bands)
	}
	whole, n := render(1, 0)
	if n != 0 {
		t.Fatalf("one band opened %d band sessions, want the whole model", n)
	}
	for _, tc := range []struct{ bands, threads, sessions int }{{2, 0, 2}, {3, 0, 3}, {3, 4, 3}, {2, 1, 0}} {
		pix, n := render(tc.bands, tc.threads)
		if n != tc.sessions {
			t.Errorf("%d bands, threads %d: %d band sessions, want %d", tc.bands, tc.threads, n, tc.sessions)
		}
		worst := 0
		for k := range pix {
			worst = max(worst, int(pix[k])-int(whole[k]), int(whole[k])-int(pix[k]))
		}
		if worst > 1 {
			t.Errorf("%d bands: the picture differs from the whole model's by up to %d levels", tc.bands, worst)
		}
	}
}

// loadCPPN builds c and loads it on the CPU.
func loadCPPN(t *testing.T, c CPPN) *Model {
	t.Helper()
	man, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	m, warn, err := Load(man, SessionConfig{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if warn != "" {
		t.Errorf("unexpected warning %q", warn)
	}
	return m
}
