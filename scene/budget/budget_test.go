package budget

import (
	"math"
	"strings"
	"testing"
	"time"
)

// machine is a simulated display: a frame costs fixed time plus time per
// pixel of the render scale plus time the background work steals by its
// share. run feeds the controller its frame times for d of clock time.
type machine struct {
	k              *Controller
	now            time.Duration
	fixed, perArea time.Duration // a frame's cost at scale 1
	stolen         time.Duration // added per frame at share 1
	vsync          time.Duration // a frame ends on the next multiple of this, 0 for none
	changes        int
}

func (m *machine) frameTime() time.Duration {
	s := m.k.State()
	d := m.fixed + time.Duration(float64(m.perArea)*s.Scale*s.Scale) + time.Duration(float64(m.stolen)*s.Share)
	if m.vsync > 0 {
		d = (d + m.vsync - 1) / m.vsync * m.vsync
	}
	return d
}

func (m *machine) run(d time.Duration) {
	end := m.now + d
	for m.now < end {
		m.now += m.frameTime()
		if m.k.Frame(m.now) {
			m.changes++
		}
	}
}

func TestLadderStepsAreSmallAndBounded(t *testing.T) {
	c := Config{TargetFPS: 30, MinScale: 0.4, MaxScale: 1}
	l := Ladder(c)
	if l[0] != (Level{1, 1}) {
		t.Fatalf("first rung %+v, want full scale and share", l[0])
	}
	last := l[len(l)-1]
	if math.Abs(last.Scale-0.4) > 1e-9 || math.Abs(last.Share-MinShare) > 1e-9 {
		t.Errorf("last rung %+v, want scale 0.4 and share %g", last, MinShare)
	}
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		if b.Scale < c.MinScale-1e-9 || b.Share < MinShare-1e-9 {
			t.Errorf("rung %d %+v is below the configured bounds", i, b)
		}
		if b.Scale > a.Scale || b.Share > a.Share || (b.Scale == a.Scale) == (b.Share == a.Share) {
			t.Errorf("rung %d %+v from %+v: each step must lower exactly one lever", i, b, a)
		}
		if b.Scale/a.Scale < 0.9 {
			t.Errorf("rung %d: scale %.3f → %.3f is a visible jump", i, a.Scale, b.Scale)
		}
	}
	if off := Ladder(Config{TargetFPS: 0, MinScale: 0.4, MaxScale: 1}); len(off) != 1 {
		t.Errorf("adaptation off: %d rungs, want 1", len(off))
	}
}

func TestSlowMachineLowersUntilTheTargetHolds(t *testing.T) {
	c := Config{TargetFPS: 20, MinScale: 0.4, MaxScale: 1}
	floors := 0
	// 110 ms a frame at full size and full share: 9 fps. Lower rungs reach 20.
	m := &machine{k: New(c, func(float64) { floors++ }), fixed: 10 * time.Millisecond, perArea: 70 * time.Millisecond, stolen: 30 * time.Millisecond}
	m.run(60 * time.Second)
	s := m.k.State()
	if got := 1 / m.frameTime().Seconds(); got < 20*lowBand {
		t.Errorf("after a minute: %.1f fps at %+v, want at least %.1f", got, s, 20*lowBand)
	}
	if s.Scale < c.MinScale || s.Rung == 0 || floors != 0 || s.Floor {
		t.Errorf("state %+v, floors %d: want a lowered rung above the floor", s, floors)
	}
	// Settled: the second minute holds its rung (no oscillation).
	before := m.changes
	m.run(60 * time.Second)
	if m.changes-before > 2 {
		t.Errorf("%d level changes in a settled minute; the controller oscillates", m.changes-before)
	}
}

func TestFastMachineStaysAtFullSize(t *testing.T) {
	m := &machine{k: New(DefaultConfig(), nil), fixed: 5 * time.Millisecond, perArea: 10 * time.Millisecond}
	m.run(30 * time.Second)
	if s := m.k.State(); s.Rung != 0 || m.changes != 0 {
		t.Errorf("60 fps machine, target 30: %+v after %d changes, want full size untouched", s, m.changes)
	}
}

func TestTooSlowMachineReportsTheFloorOnce(t *testing.T) {
	var floors []float64
	c := Config{TargetFPS: 20, MinScale: 0.5, MaxScale: 1}
	m := &machine{k: New(c, func(t float64) { floors = append(floors, t) }), fixed: 100 * time.Millisecond, perArea: 50 * time.Millisecond}
	m.run(2 * time.Minute)
	s := m.k.State()
	if !s.Floor || s.Rung != s.Rungs-1 || s.Scale != 0.5 || s.Share != MinShare {
		t.Errorf("state %+v: want the last rung (scale 0.5, share %g) and Floor", s, MinShare)
	}
	if len(floors) != 1 || floors[0] != 20 {
		t.Errorf("floor reported %v, want once with the target 20", floors)
	}
}

func TestRecoveryRaisesBackAndBacksOffAFailingStep(t *testing.T) {
	c := Config{TargetFPS: 30, MinScale: 0.4, MaxScale: 1}
	m := &machine{k: New(c, nil), fixed: 5 * time.Millisecond, perArea: 45 * time.Millisecond}
	m.run(30 * time.Second) // 50 ms at full size: lowered
	low := m.k.State()
	if low.Rung == 0 {
		t.Fatalf("state %+v: a 20 fps machine with target 30 should be lowered", low)
	}
	// The load goes away: it comes back up to full size.
	m.perArea = 10 * time.Millisecond
	m.run(60 * time.Second)
	if s := m.k.State(); s.Rung != 0 {
		t.Errorf("after the load went: %+v, want back at full size", s)
	}

	// On a 60 Hz screen a frame takes 16.7 or 33.3 ms: with a target of
	// 40 one rung down runs at 60 fps (room) and full size at 30 (slow).
	// Each failed step up doubles the wait, so the changes thin out.
	m.k = New(Config{TargetFPS: 40, MinScale: 0.4, MaxScale: 1}, nil)
	m.fixed, m.perArea, m.vsync = 0, 17*time.Millisecond, time.Second/60
	m.run(5 * time.Minute)
	before := m.changes
	m.run(5 * time.Minute)
	if n := m.changes - before; n > 12 {
		t.Errorf("%d changes in 5 settled minutes, want at most 12: hysteresis must stop the level oscillating", n)
	}
}

// Far from the target, a window moves several rungs: a start on a slow
// machine finds its level in seconds, and so does a return to full size
// once the load goes, rather than a rung every two seconds.
func TestFarFromTheTargetMovesSeveralRungs(t *testing.T) {
	c := Config{TargetFPS: 30, MinScale: 0.3, MaxScale: 1}
	// 105 ms a frame at full size: 9.5 fps against the target 30.
	m := &machine{k: New(c, nil), fixed: 5 * time.Millisecond, perArea: 100 * time.Millisecond}
	for m.changes == 0 && m.now < 10*time.Second {
		m.run(m.frameTime())
	}
	if s := m.k.State(); s.Rung < 2 || s.Cause != "lowered" {
		t.Errorf("the first change at 9.5 fps, target 30: %+v; want several rungs down at once", s)
	}
	m.run(30 * time.Second)
	if got := 1 / m.frameTime().Seconds(); got < 30*lowBand {
		t.Errorf("after 30 s: %.1f fps at %+v, want at least %.1f", got, m.k.State(), 30*lowBand)
	}

	// From the last rung on a machine with room to spare at every rung.
	k := New(c, nil)
	k.Resume(Ladder(c)[len(Ladder(c))-1])
	m = &machine{k: k, fixed: 2 * time.Millisecond, perArea: 8 * time.Millisecond}
	rungs := k.State().Rung
	for k.State().Rung > 0 && m.now < time.Minute {
		m.run(500 * time.Millisecond)
	}
	// One rung at a time would take a settle window and baseHold roomy
	// windows per rung.
	oneByOne := time.Duration(rungs*(baseHold+1)) * window
	if s := k.State(); s.Rung != 0 || m.now > oneByOne/2 {
		t.Errorf("from rung %d with room: %+v after %v; want full size in under %v (one rung at a time takes %v)", rungs, s, m.now, oneByOne/2, oneByOne)
	}
}

func TestResumeCarriesOnFromALevel(t *testing.T) {
	k := New(Config{TargetFPS: 25, MinScale: 0.5, MaxScale: 1}, nil)
	k.Resume(Level{Scale: 0.7, Share: 0.5})
	s := k.State()
	if s.Scale > 0.7 || s.Share > 0.5 || s.Rung == 0 {
		t.Errorf("resumed at %+v, want no richer than scale 0.7 and share 0.5", s)
	}
	if prev := Ladder(Config{TargetFPS: 25, MinScale: 0.5, MaxScale: 1})[s.Rung-1]; prev.Scale <= 0.7 && prev.Share <= 0.5 {
		t.Errorf("resumed at rung %d, but rung %d (%+v) was no richer either", s.Rung, s.Rung-1, prev)
	}
}

func TestOffNeverChanges(t *testing.T) {
	m := &machine{k: New(Config{TargetFPS: 0, MinScale: 0.4, MaxScale: 1}, nil), fixed: 500 * time.Millisecond}
	m.run(time.Minute)
	if s := m.k.State(); m.changes != 0 || s.Scale != 1 || s.Share != 1 || s.Reason == "" {
		t.Errorf("off: %+v after %d changes, want full scale, full share and a reason", s, m.changes)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		key string
	}{
		{Config{TargetFPS: -1, MinScale: 0.4, MaxScale: 1}, "target_fps"},
		{Config{TargetFPS: math.NaN(), MinScale: 0.4, MaxScale: 1}, "target_fps"},
		{Config{TargetFPS: 30, MinScale: 0.05, MaxScale: 1}, "min_scale"},
		{Config{TargetFPS: 30, MinScale: 0.6, MaxScale: 0.5}, "max_scale"},
		{Config{TargetFPS: 30, MinScale: 0.4, MaxScale: 1.5}, "max_scale"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%+v: error %v, want one naming %s", c.cfg, err, c.key)
		}
	}
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
