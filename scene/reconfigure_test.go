package scene

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"reverie/director"
)

// reconfigureOnLoop calls Reconfigure from another goroutine, as a config
// reload does, and runs the game loop until it returns.
func reconfigureOnLoop(g *Game, cfg Config, d *director.Director) error {
	return whileStepping(g, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return g.Controls().Reconfigure(ctx, cfg, d)
	})
}

// A reload can change the chain while the piece runs: the new passes and
// presets appear in the controls, a hand-set value the new chain shares
// stays, the picture carries over, and an invalid config changes nothing.
func TestReconfigureSwapsChainLive(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 64
	d := director.New(cfg.Director, 16)
	g := newFlatGame(t, cfg, d, 200)
	if g == nil {
		return
	}
	onLoop(func() { g.Update() })
	defer onLoop(g.Dispose)
	c := g.Controls()
	if err := c.Set("warp.zoom", 1.05); err != nil {
		t.Fatal(err)
	}
	onLoop(func() { g.Update() })
	names := func() string {
		var s []string
		for _, p := range c.List() {
			s = append(s, p.Name)
		}
		return strings.Join(s, " ")
	}
	if !strings.Contains(names(), "deepdream.step") {
		t.Fatalf("default chain lacks dream: %s", names())
	}

	// Invalid: an unknown pass. Rejected before the loop sees it.
	bad := cfg
	bad.Passes = []PassConfig{{Pass: "warp"}, {Pass: "swirl"}}
	err := c.Reconfigure(context.Background(), bad, nil)
	if err == nil || !strings.Contains(err.Error(), "scene.passes[1].pass") || !strings.Contains(err.Error(), "swirl") {
		t.Errorf("invalid chain: %v; want an error naming scene.passes[1].pass", err)
	}
	// A window setting is refused by the loop, which keeps the old chain.
	big := cfg
	big.RenderW = 128
	if err := reconfigureOnLoop(g, big, nil); err == nil || !strings.Contains(err.Error(), "render_width") {
		t.Errorf("render size change: %v; want an error naming render_width", err)
	}
	if !strings.Contains(names(), "deepdream.step") || len(g.Chain.Passes) != len(cfg.Passes)-1 {
		t.Errorf("after rejected reloads the chain changed: %s", names())
	}

	next := cfg
	next.Passes = []PassConfig{
		{Pass: "warp", Params: map[string]float64{"zoom": 1.01}},
		{Pass: "inject", Params: map[string]float64{"mix": 0.05}},
		{Pass: "warp", Params: map[string]float64{"rotate": 0.01}},
	}
	next.Presets = []Preset{{Name: "calm", Params: map[string]float64{"warp#2.rotate": 0}}}
	next.Preset = ""
	d2 := director.New(next.Director, 16)
	if err := reconfigureOnLoop(g, next, d2); err != nil {
		t.Fatal(err)
	}
	got := names()
	if strings.Contains(got, "dream.") || !strings.Contains(got, "warp#2.rotate") {
		t.Errorf("after the reload the parameters are %s; want warp, inject, warp#2 and no dream", got)
	}
	if len(g.Chain.Passes) != 3 || g.director != d2 {
		t.Errorf("chain has %d passes, director replaced %v", len(g.Chain.Passes), g.director == d2)
	}
	if p := c.Presets(); len(p) != 1 || p[0] != "calm" {
		t.Errorf("presets %v; want [calm]", p)
	}
	for _, p := range c.List() {
		if p.Name == "warp.zoom" && math.Abs(p.Value-1.05) > 1e-6 {
			t.Errorf("hand-set warp.zoom is %v after the reload; want 1.05 kept", p.Value)
		}
	}
	if err := c.Set("warp#2.rotate", 0.02); err != nil {
		t.Errorf("the new chain's parameter cannot be set: %v", err)
	}
	if err := c.ApplyPreset("calm"); err != nil {
		t.Error(err)
	}
	// The picture carried over: the light frame is still on screen.
	var mean float64
	onLoop(func() {
		g.Update()
		pix := make([]byte, 4*64*64)
		g.ReadFrame(pix)
		for _, b := range pix {
			mean += float64(b)
		}
		mean /= float64(len(pix))
	})
	if mean < 100 {
		t.Errorf("after the reload the frame's mean is %.1f; want the light picture carried over", mean)
	}
}
