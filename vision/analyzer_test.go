package vision

import (
	"math"
	"testing"

	"gocv.io/x/gocv"

	"reverie/internal/matcount"
)

// checkMats fails t if a gocv Mat made during the test is still open.
func checkMats(t *testing.T) { matcount.Check(t) }

// People walking in vtest.avi read as motion and presence after warm-up, and
// the centroid follows them.
func TestAnalyzerVtestPeople(t *testing.T) {
	checkMats(t)
	const n = 300
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	cfg := DefaultConfig()
	r := analyse(cfg, n, func(i int, dst *gocv.Mat) { frames[i].CopyTo(dst) })
	truth := groundTruth(frames)

	if r.firstWarm != int(cfg.Warmup*clipFPS) {
		t.Errorf("warm from frame %d, want %d (warmup %gs at %d fps)", r.firstWarm, int(cfg.Warmup*clipFPS), cfg.Warmup, clipFPS)
	}
	if c := count(n, 0, func(i int) bool { return r.presence[i] && !r.warm[i] }); c > 0 {
		t.Errorf("presence in %d frames during warm-up", c)
	}
	from := r.firstWarm + clipFPS
	if c := count(n, from, func(i int) bool { return r.presence[i] }); c < (n-from)*9/10 {
		t.Errorf("presence in only %d of %d frames of people walking after warm-up", c, n-from)
	}
	if c := count(n, 1, func(i int) bool { return r.motion[i] > 0.01 }); c < (n-1)*8/10 {
		t.Errorf("motion > 0.01 in only %d of %d frames of people walking", c, n-1)
	}
	if c := count(n, 0, func(i int) bool { return r.light[i] }); c > 0 {
		t.Errorf("light_change in %d frames of steady daylight", c)
	}
	var ex, ey, cnt float64
	var gx, ax []float64
	for i := from; i < n; i++ {
		if math.IsNaN(truth[i][0]) {
			continue
		}
		ex += math.Abs(r.centroid[i][0] - truth[i][0])
		ey += math.Abs(r.centroid[i][1] - truth[i][1])
		gx = append(gx, truth[i][0])
		ax = append(ax, r.centroid[i][0])
		cnt++
	}
	if cnt < float64(n-from)/2 {
		t.Fatalf("ground truth found people in only %v frames", cnt)
	}
	ex, ey = ex/cnt, ey/cnt
	corr := correlation(gx, ax)
	t.Logf("centroid error x %.3f y %.3f, correlation of x with the truth %.2f", ex, ey, corr)
	if ex > 0.06 || ey > 0.06 {
		t.Errorf("centroid is off the people by %.3f, %.3f of the picture on average", ex, ey)
	}
	if corr < 0.8 {
		t.Errorf("centroid x does not follow the people: correlation %.2f", corr)
	}
}

func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

// A still frame of the same street with sensor noise is nobody.
func TestAnalyzerStillNoiseIsNobody(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 1)
	defer closeAll(frames)
	clip := newNoisy(frames[0], 6)
	defer clip.Close()
	const n = 150
	r := analyse(DefaultConfig(), n, func(i int, dst *gocv.Mat) { clip.frame(dst, 1) })
	if c := count(n, 0, func(i int) bool { return r.presence[i] }); c > 0 {
		t.Errorf("presence in %d of %d frames of a still, noisy street", c, n)
	}
	if c := count(n, 1, func(i int) bool { return r.motion[i] > 0.01 }); c > 0 {
		t.Errorf("motion > 0.01 in %d of %d frames of a still, noisy street", c, n)
	}
	if maxOf(r.level) > 0.1 {
		t.Errorf("presence level rose to %.2f on noise", maxOf(r.level))
	}
}

// Light that ramps slowly or steps up 30% at once is neither motion nor
// presence; the step is reported as a short light change (the ramp's
// reporting is TestAnalyzerSlowRampIsLightChange's).
func TestAnalyzerLightChangeIsNobody(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 1)
	defer closeAll(frames)
	clip := newNoisy(frames[0], 3)
	defer clip.Close()
	cfg := DefaultConfig()
	const n = 150 // 15 s: warm-up, then the change
	cases := []struct {
		name string
		gain func(t float64) float64
	}{
		{"slow ramp up 30% over 8 s", func(t float64) float64 { return 1 + 0.3*min(max(t-4, 0)/8, 1) }},
		{"slow ramp down 30% over 8 s", func(t float64) float64 { return 1 - 0.3*min(max(t-4, 0)/8, 1) }},
		{"sudden 30% step up", func(t float64) float64 { return map[bool]float64{false: 1, true: 1.3}[t >= 5] }},
		{"sudden 30% step down", func(t float64) float64 { return map[bool]float64{false: 1, true: 0.7}[t >= 5] }},
	}
	for _, c := range cases {
		r := analyse(cfg, n, func(i int, dst *gocv.Mat) { clip.frame(dst, c.gain(float64(i)/clipFPS)) })
		if p := count(n, 0, func(i int) bool { return r.presence[i] }); p > 0 {
			t.Errorf("%s: presence in %d frames", c.name, p)
		}
		if m := count(n, 1, func(i int) bool { return r.motion[i] > 0.01 }); m > 0 {
			t.Errorf("%s: motion > 0.01 in %d frames (max %.3f)", c.name, m, maxOf(r.motion))
		}
		t.Logf("%s: light_change in %d frames, max level %.3f, max motion %.4f", c.name, r.lightFrames, maxOf(r.level), maxOf(r.motion))
		if c.name[:6] == "sudden" && r.lightFrames > 3*clipFPS {
			t.Errorf("%s: light_change for %d frames; a change should be reported briefly", c.name, r.lightFrames)
		}
		if c.name[:6] == "sudden" && r.lightFrames == 0 {
			t.Errorf("%s: not reported as light_change", c.name)
		}
	}
}

// A slow ±30% ramp over 8 s is normalised away, so nothing jumps, but the
// gain keeps moving: it is reported as a light change for most of the ramp
// and not once the light has settled. A steady street never is (steady
// daylight with people walking: TestAnalyzerVtestPeople).
func TestAnalyzerSlowRampIsLightChange(t *testing.T) {
	checkMats(t)
	frames := vtestFrames(t, 1)
	defer closeAll(frames)
	clip := newNoisy(frames[0], 3)
	defer clip.Close()
	const n = 180 // warm-up 4 s, the ramp 4..12 s, then 6 s of steady light
	ramp := func(sign float64) func(t float64) float64 {
		return func(t float64) float64 { return 1 + sign*0.3*min(max(t-4, 0)/8, 1) }
	}
	for _, c := range []struct {
		name string
		gain func(t float64) float64
	}{{"up", ramp(1)}, {"down", ramp(-1)}, {"steady", ramp(0)}} {
		r := analyse(DefaultConfig(), n, func(i int, dst *gocv.Mat) { clip.frame(dst, c.gain(float64(i)/clipFPS)) })
		before := count(4*clipFPS, 0, func(i int) bool { return r.light[i] })
		during := count(12*clipFPS, 4*clipFPS, func(i int) bool { return r.light[i] })
		// A second after the ramp the last second's gain is steady.
		after := count(n, 13*clipFPS, func(i int) bool { return r.light[i] })
		t.Logf("ramp %s: light_change before %d, during %d of %d, after %d frames", c.name, before, during, 8*clipFPS, after)
		if before > 0 || after > 0 {
			t.Errorf("ramp %s: light_change in %d frames before the ramp and %d after it settled", c.name, before, after)
		}
		if c.name == "steady" {
			if during > 0 {
				t.Errorf("steady light: light_change in %d frames", during)
			}
			continue
		}
		if during < 8*clipFPS*6/10 {
			t.Errorf("ramp %s: light_change in only %d of the ramp's %d frames", c.name, during, 8*clipFPS)
		}
		if p := count(n, 0, func(i int) bool { return r.presence[i] }); p > 0 {
			t.Errorf("ramp %s: presence in %d frames", c.name, p)
		}
	}
}

// An ignore mask over the street where the people walk silences them; the
// same mask elsewhere does not.
func TestAnalyzerIgnoreMask(t *testing.T) {
	checkMats(t)
	const n = 120
	frames := vtestFrames(t, n)
	defer closeAll(frames)
	street := Polygon{{0, 0}, {1, 0}, {1, 0.75}, {0, 0.75}}
	lawn := Polygon{{0, 0.8}, {1, 0.8}, {1, 1}, {0, 1}}
	for _, c := range []struct {
		name   string
		ignore []Polygon
		quiet  bool
	}{{"ignore the street", []Polygon{street}, true}, {"ignore the lawn", []Polygon{lawn}, false}} {
		cfg := DefaultConfig()
		cfg.Ignore = c.ignore
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		r := analyse(cfg, n, func(i int, dst *gocv.Mat) { frames[i].CopyTo(dst) })
		present := count(n, 0, func(i int) bool { return r.presence[i] })
		moving := count(n, 1, func(i int) bool { return r.motion[i] > 0.01 })
		t.Logf("%s: presence %d, motion %d of %d", c.name, present, moving, n)
		if c.quiet && (present > 0 || moving > 0) {
			t.Errorf("%s: presence in %d and motion in %d of %d frames", c.name, present, moving, n)
		}
		if !c.quiet && (present < n/2 || moving < n/2) {
			t.Errorf("%s: the people went unseen: presence in %d, motion in %d of %d frames", c.name, present, moving, n)
		}
	}
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func TestConfigValidation(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		key string
		set func(c *Config)
	}{
		{"at_end", func(c *Config) { c.AtEnd = "rewind" }},
		{"regions[0]", func(c *Config) { c.Regions = []Polygon{{{0, 0}, {1, 0}}} }},
		{"ignore[1]", func(c *Config) { c.Ignore = []Polygon{{{0, 0}, {1, 0}, {1, 1}}, {{0, 0}, {1.5, 0}, {1, 1}}} }},
		{"flow_width", func(c *Config) { c.FlowW = 0 }},
		{"hold", func(c *Config) { c.Hold = 0 }},
		{"face_cascade", func(c *Config) { c.Faces, c.FaceModel = true, "/nonexistent/face.xml" }},
	}
	for _, b := range bad {
		c := DefaultConfig()
		b.set(&c)
		err := c.Validate()
		fe, ok := err.(*FieldError)
		if !ok || fe.FieldKey() != b.key {
			t.Errorf("%s: got %v, want an error on %s", b.key, err, b.key)
		}
	}
}
