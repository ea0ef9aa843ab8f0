package scene

import (
	"context"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/director"
	"reverie/gen"
)

// Presets glide: half-way through preset_time a parameter lies between its
// old and new value, at the end it is the preset's, and what the preset
// leaves out returns to the configured value. Controls report all of it.
func TestPresetsInterpolateThroughControls(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 36
	cfg.PresetTime = 2
	onLoop(func() {
		d := director.New(cfg.Director, 16)
		g, err := NewGame(cfg, 8, 8, d, stepDriver{})
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		g.UseVirtualClock(500 * time.Millisecond)
		c := g.Controls()
		if err := c.Set("warp.zoom", 1.5); err == nil || !strings.Contains(err.Error(), "0.9..1.2") {
			t.Errorf("out of range: %v", err)
		}
		if err := c.Set("warp.zoomm", 1); err == nil || !strings.Contains(err.Error(), "warp.zoomm") {
			t.Errorf("unknown name: %v", err)
		}
		if err := c.ApplyPreset("storm"); err == nil || !strings.Contains(err.Error(), "tide, bloom, mirror") {
			t.Errorf("unknown preset: %v", err)
		}
		if err := c.SetLatent(16, 1); err == nil || !strings.Contains(err.Error(), "0..15") {
			t.Errorf("latent out of range: %v", err)
		}
		if err := c.ApplyPreset("bloom"); err != nil {
			t.Error(err)
			return
		}
		get := func(name string) float64 {
			for _, p := range c.List() {
				if p.Name == name {
					return p.Value
				}
			}
			t.Errorf("%s not listed", name)
			return math.NaN()
		}
		g.Update()
		g.Update() // 1 s of 2
		if z := get("warp.zoom"); !(z > 1.008+1e-4 && z < 1.02-1e-4) {
			t.Errorf("half-way warp.zoom %v: want between 1.008 and 1.02", z)
		}
		if gain := get("director.gain"); !(gain > 2.5 && gain < 5) {
			t.Errorf("half-way director.gain %v", gain)
		}
		for i := 0; i < 4; i++ {
			g.Update()
		}
		if z := get("warp.zoom"); math.Abs(z-1.02) > 1e-6 {
			t.Errorf("after the switch warp.zoom %v, want 1.02", z)
		}
		if c.Stats().Preset != "bloom" {
			t.Errorf("stats preset %q", c.Stats().Preset)
		}
		// mirror leaves director.gain out: it returns to the configured 2.5.
		c.ApplyPreset("mirror")
		if err := c.Set("color.hue", 0.05); err != nil {
			t.Error(err)
			return
		}
		for i := 0; i < 6; i++ {
			g.Update()
		}
		if gain, hue := get("director.gain"), get("color.hue"); math.Abs(gain-2.5) > 1e-6 || math.Abs(hue-0.05) > 1e-6 {
			t.Errorf("after mirror: director.gain %v (want 2.5), color.hue %v (set by hand to 0.05)", gain, hue)
		}
		// A request may still use a renamed parameter's old name.
		if err := c.Set("director.idle_speed", 30); err != nil || get("director.idle_period") != 30 {
			t.Errorf("director.idle_speed 30 (the old name): %v; director.idle_period %v", err, get("director.idle_period"))
		}
		names := c.List()
		for i := 1; i < len(names); i++ {
			if names[i-1].Name >= names[i].Name {
				t.Errorf("List not sorted: %s before %s", names[i-1].Name, names[i].Name)
			}
		}
	})
}

// snapshot asks g for a snapshot while stepping its loop; nil after an
// error (reported).
func snapshot(t *testing.T, g *Game) *image.RGBA {
	return whileStepping(g, func() *image.RGBA {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		img, err := g.Controls().Snapshot(ctx)
		if err != nil {
			t.Error(err)
		}
		return img
	})
}

// snapPix takes a snapshot, hands it back, and returns its buffer's address.
func snapPix(t *testing.T, g *Game) *byte {
	img := snapshot(t, g)
	if img == nil {
		return nil
	}
	g.Controls().ReleaseSnapshot(img)
	return &img.Pix[0]
}

// A snapshot is answered by the game loop; sleep shows black.
func TestSnapshotAndSleep(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 36
	g := newFlatGame(t, cfg, nil, 200)
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	snap := func() float64 {
		img := snapshot(t, g)
		if img == nil {
			return -1
		}
		defer g.Controls().ReleaseSnapshot(img)
		var s float64
		for _, b := range img.Pix {
			s += float64(b)
		}
		return s / float64(len(img.Pix))
	}
	if m := snap(); m < 100 {
		t.Errorf("snapshot of a light frame has mean %.1f", m)
	}
	// A released snapshot's buffer serves the next one.
	if first, second := snapPix(t, g), snapPix(t, g); first != second {
		t.Error("a snapshot handed back with ReleaseSnapshot was not reused")
	}
	g.Controls().SetSleep(true)
	if m := snap(); m > 64 { // alpha is 255: a black frame's mean is 63.75
		t.Errorf("asleep, the snapshot has mean %.1f; want black", m)
	}
	if !g.Controls().Stats().Sleeping || time.Since(g.Controls().Stats().Heartbeat) > time.Minute {
		t.Errorf("stats %+v", g.Controls().Stats())
	}
}

// A model swap can change the frame size: the game takes the new size, and a
// frame whose pixels do not match its size is dropped, not a panic.
func TestUploadFollowsFrameSize(t *testing.T) {
	onLoop(func() {
		cfg := DefaultConfig()
		cfg.RenderW, cfg.RenderH = 32, 32
		g, err := NewGame(cfg, 8, 8, nil, nopDriver{})
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		frame := func(w, h int, v byte, seq uint64) *gen.Frame {
			pix := make([]byte, 4*w*h)
			for i := range pix {
				pix[i] = v
			}
			return &gen.Frame{Pix: pix, Width: w, Height: h, Seq: seq}
		}
		g.Upload(frame(8, 8, 50, 1))
		g.Upload(frame(16, 4, 180, 2))
		g.Upload(&gen.Frame{Pix: make([]byte, 10), Width: 16, Height: 4, Seq: 3})
		pix := readAll(g.in.GenNewer)
		if pix[4*(16*32+16)] != 180 || g.genW != 16 || g.genH != 4 {
			t.Errorf("after a 16x4 frame: pixel %d, size %dx%d", pix[4*(16*32+16)], g.genW, g.genH)
		}
	})
}

// stepDriver steps the game's director, if it has one, with no camera.
type stepDriver struct{ nopDriver }

func (stepDriver) Tick(g *Game) error {
	g.Steer(nil, nil, 1.0/60, nil)
	return nil
}

// The pass chain's frame time, with the default passes, against a bare blit
// of the same size in the same run. Each iteration is one displayed frame.
func BenchmarkChain(b *testing.B) {
	for _, size := range [][2]int{{1280, 720}, {1920, 1080}} {
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		cfg := DefaultConfig()
		cfg.RenderW, cfg.RenderH = size[0], size[1]
		g := newLoopGame(b, cfg, 320, 180, nil, nopDriver{})
		if g == nil {
			return
		}
		var src, dst *ebiten.Image
		onLoop(func() {
			g.Upload(&gen.Frame{Pix: make([]byte, 4*320*180), Width: 320, Height: 180, Seq: 1})
			src, dst = ebiten.NewImage(size[0], size[1]), ebiten.NewImage(size[0], size[1])
		})
		var op ebiten.DrawImageOptions
		// Ebiten compiles shaders and sizes its queues on first use: warm
		// up so allocs/op shows the steady state.
		onFrames(5, func() { dst.DrawImage(src, &op); g.StepChain() })
		b.Run("blit/"+name, func(b *testing.B) {
			b.ReportAllocs()
			onFrames(b.N, func() { dst.DrawImage(src, &op) })
		})
		b.Run("chain/"+name, func(b *testing.B) {
			b.ReportAllocs()
			onFrames(b.N, g.StepChain)
		})
		onLoop(func() { g.Dispose(); src.Deallocate(); dst.Deallocate() })
	}
}

// The render size is independent of the screen's: a window resized to any
// shape, a 4K monitor or a tiny one gets the picture scaled to fit (letter-
// boxed, centred) without a crash, and Layout follows the new size.
func TestDrawFollowsScreenSize(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 36
	g := newFlatGame(t, cfg, nil, 220)
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	onLoop(func() {
		g.StepChain()
		if w, h := g.Layout(0, 0); w != 64 || h != 36 {
			t.Errorf("Layout(0, 0) = %dx%d; want the render size while no window is known", w, h)
		}
		for _, size := range [][2]int{{100, 100}, {3840, 2160}, {1920, 1200}, {17, 9}, {1, 1}} {
			w, h := g.Layout(size[0], size[1])
			if w != size[0] || h != size[1] {
				t.Errorf("Layout(%d, %d) = %dx%d", size[0], size[1], w, h)
			}
			screen := ebiten.NewImage(w, h)
			g.Draw(screen)
			got := make([]byte, 4*w*h)
			screen.ReadPixels(got)
			centre := got[4*((h/2)*w+w/2):]
			if centre[0] < 100 {
				t.Errorf("%dx%d screen: centre pixel %v; the picture is not shown", w, h, centre[:4])
			}
			// A square screen letterboxes a 16:9 picture: its top row is bare.
			if w == 100 && got[4*(w/2)+3] != 0 {
				t.Errorf("100x100 screen: top row is drawn; want the picture fitted between bars")
			}
			screen.Deallocate()
		}
	})
}
