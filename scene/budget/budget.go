// Package budget is the adaptive frame budget: from the measured time of
// displayed frames it chooses the internal render scale and the share of the
// machine left to background work (the generator, the neural dream, the
// person network), so the display holds scene.target_fps on whatever
// machine it runs on. It is pure arithmetic over the times it is handed,
// so a test drives it with a clock of its own.
package budget

import (
	"fmt"
	"math"
	"time"

	"reverie/internal/field"
)

// Config is the frame budget's part of the scene section of config.yaml.
type Config struct {
	TargetFPS float64 `yaml:"target_fps"` // the rate to hold; 0 turns adaptation off
	MinScale  float64 `yaml:"min_scale"`  // smallest render scale, of render_width × render_height
	MaxScale  float64 `yaml:"max_scale"`  // largest render scale
}

// DefaultConfig is the defaults, the same as config.yaml's.
func DefaultConfig() Config { return Config{TargetFPS: 30, MinScale: 0.3, MaxScale: 1} }

// Validate checks the values; keys are relative to the scene section.
func (c *Config) Validate() error {
	switch {
	case !(c.TargetFPS == 0 || (c.TargetFPS >= 1 && c.TargetFPS <= 240)):
		return &field.Error{Key: "target_fps", Msg: fmt.Sprintf("%g: expected 0 (no adaptation) or 1..240 frames per second", c.TargetFPS)}
	case !(c.MinScale >= 0.1 && c.MinScale <= 1):
		return &field.Error{Key: "min_scale", Msg: fmt.Sprintf("%g: expected 0.1..1 of the render size", c.MinScale)}
	case !(c.MaxScale >= c.MinScale && c.MaxScale <= 1):
		return &field.Error{Key: "max_scale", Msg: fmt.Sprintf("%g: expected min_scale (%g)..1 of the render size", c.MaxScale, c.MinScale)}
	}
	return nil
}

// The controller's constants. A scale step of 8% changes the pixel count by
// about 15%: under the output pass's filtered upscale the picture softens
// rather than jumps.
const (
	scaleStep = 0.92
	shareStep = 0.75
	// MinShare is the least share of a core each background stage keeps:
	// the generator, the dream and the person network slow down but never
	// stop.
	MinShare = 0.1

	window  = 500 * time.Millisecond // frames are counted over this long
	minRun  = 4                      // and at least this many
	lowBand = 0.93                   // below target × lowBand a window is slow
	// Above target × highBand a window has room for the next level up.
	// The gap between lowBand and highBand is the hysteresis.
	highBand = 1.25
	// Windows in a row with room before stepping up; doubled each time a
	// step up had to be taken back within backoffWithin, up to maxHold.
	baseHold      = 3
	maxHold       = 120
	backoffWithin = 10 * time.Second
	// A rung makes a frame cheaper by this factor at most (a scale step
	// cuts the pixels by 15%; a share step frees a quarter of the
	// background's time, which costs the display less). A window whose
	// rate is far from the band moves as many rungs as that gap spans at
	// this cost, up to maxStride: the level finds its place in seconds
	// after a start or a change of load, not a rung every window or two.
	// The real change per rung is hardly ever larger, so a stride neither
	// lowers past the rung that would do nor raises into one that cannot
	// hold.
	rungCost  = 0.85
	maxStride = 4
)

// stride is how many rungs a window may move when its rate is gap times
// the edge of the band it crossed: as many as the gap spans at rungCost
// each, at least one.
func stride(gap float64) int {
	if !(gap > 1) {
		return 1
	}
	return max(1, min(maxStride, int(math.Log(gap)/math.Log(1/rungCost))))
}

// Level is one rung of the ladder: a render scale and the share of the
// machine the background work may use.
type Level struct {
	Scale float64
	Share float64
}

// Causes are the short names of why the level is what it is, for /metrics:
// off (no target), measuring (no full window yet), full (full size holds
// the target), holding (a lowered rung holds it), lowered and raised (the
// last window moved the level), floor (the last rung cannot reach it).
var Causes = []string{"off", "measuring", "full", "holding", "lowered", "raised", "floor"}

// State is what the controller has decided and why.
type State struct {
	Level
	Rung   int     // index into the ladder, 0 the best-looking
	Rungs  int     // rungs in all
	FPS    float64 // frames per second over the last full window, 0 before one
	Cause  string  // one of Causes
	Reason string  // a sentence for /api/status and the overlay
	Floor  bool    // at the last rung and still below the target
}

// Controller holds the rate. Frame is called once per displayed frame with
// the time of that frame; everything it decides follows from those times.
type Controller struct {
	cfg    Config
	ladder []Level
	rung   int
	state  State

	winStart time.Duration
	started  bool
	frames   int
	settle   bool // the window after a change is not judged: it pays for the resize

	roomy   int                  // windows in a row with room for the next rung up
	hold    []int                // per rung: roomy windows needed to step up to it
	upAt    time.Duration        // when the last step up happened
	upFrom  int                  // the rung it left, -1 for none
	floored bool                 // the floor has been reported
	onFloor func(target float64) // called once when even the last rung is too slow
}

// New builds a controller at the best-looking rung. With a zero target it
// stays there. onFloor, if not nil, is called once, the first time even the
// last rung cannot reach the target.
func New(c Config, onFloor func(target float64)) *Controller {
	k := &Controller{cfg: c, ladder: Ladder(c), upFrom: -1, onFloor: onFloor}
	k.hold = make([]int, len(k.ladder))
	for i := range k.hold {
		k.hold[i] = baseHold
	}
	k.state = State{Level: k.ladder[0], Rungs: len(k.ladder)}
	if c.TargetFPS == 0 {
		k.state.Cause, k.state.Reason = "off", "off (scene.target_fps is 0)"
	} else {
		k.state.Cause, k.state.Reason = "measuring", "measuring the frame rate"
	}
	return k
}

// Ladder lists the rungs from the best-looking down. Each step lowers the
// render scale or the background share in turn, until each reaches its
// floor, so neither the picture's sharpness nor the generator's and the
// dream's pace alone pays for the rate.
func Ladder(c Config) []Level {
	l := Level{Scale: c.MaxScale, Share: 1}
	out := []Level{l}
	if c.TargetFPS == 0 {
		return out
	}
	for turn := 0; ; turn++ {
		canScale, canShare := l.Scale > c.MinScale+1e-9, l.Share > MinShare+1e-9
		if !canScale && !canShare {
			return out
		}
		if canScale && (turn%2 == 0 || !canShare) {
			l.Scale = math.Max(c.MinScale, l.Scale*scaleStep)
		} else {
			l.Share = math.Max(MinShare, l.Share*shareStep)
		}
		out = append(out, l)
	}
}

// Resume starts the ladder at the first rung no richer than l (a level an
// earlier controller chose), so a new configuration carries on from where
// the picture is instead of jumping back to full size.
func (k *Controller) Resume(l Level) {
	if k.cfg.TargetFPS == 0 {
		return
	}
	for i, r := range k.ladder {
		if r.Scale <= l.Scale+1e-9 && r.Share <= l.Share+1e-9 {
			k.rung = i
			k.state.Level, k.state.Rung = r, i
			return
		}
	}
	k.rung = len(k.ladder) - 1
	k.state.Level, k.state.Rung = k.ladder[k.rung], k.rung
}

// State is the current decision.
func (k *Controller) State() State { return k.state }

// Frame counts one displayed frame at time now (any monotonic clock) and
// reports whether the level changed.
func (k *Controller) Frame(now time.Duration) bool {
	if k.cfg.TargetFPS == 0 {
		return false
	}
	if !k.started {
		k.started, k.winStart = true, now
		return false
	}
	k.frames++
	el := now - k.winStart
	if el < window || k.frames < minRun {
		return false
	}
	fps := float64(k.frames) / el.Seconds()
	k.winStart, k.frames = now, 0
	if k.settle {
		k.settle = false
		return false
	}
	k.state.FPS = fps
	return k.judge(fps, now)
}

// judge decides on one window's rate.
func (k *Controller) judge(fps float64, now time.Duration) bool {
	t := k.cfg.TargetFPS
	last := len(k.ladder) - 1
	switch {
	case fps < t*lowBand && k.rung < last:
		if k.upFrom >= 0 && k.rung < k.upFrom && now-k.upAt < backoffWithin {
			// The last step up did not hold: wait longer before trying
			// that rung again, so the level does not oscillate.
			k.hold[k.rung] = min(maxHold, 2*k.hold[k.rung])
		}
		k.upFrom = -1
		k.move(min(last, k.rung+stride(t*lowBand/fps)), "lowered", fmt.Sprintf("lowered: %.1f fps is below the target %g", fps, t))
		return true
	case fps < t*lowBand:
		k.state.Floor, k.state.Cause = true, "floor"
		k.state.Reason = fmt.Sprintf("at the smallest size and least background share: %.1f fps cannot reach the target %g", fps, t)
		if !k.floored && k.onFloor != nil {
			k.onFloor(t)
		}
		k.floored = true
		k.roomy = 0
		return false
	case fps >= t*highBand && k.rung > 0:
		k.state.Floor = false
		if k.roomy++; k.roomy < k.hold[k.rung-1] {
			return false
		}
		if k.upFrom >= 0 && now-k.upAt >= backoffWithin {
			k.hold[k.upFrom-1] = baseHold // the last step up held
		}
		// Several rungs at once only over rungs whose wait has passed: a
		// rung that failed recently is tried on its own.
		to := k.rung - 1
		for n := stride(fps / (t * highBand)); n > 1 && to > 0 && k.roomy >= k.hold[to-1]; n-- {
			to--
		}
		k.upFrom, k.upAt = k.rung, now
		k.move(to, "raised", fmt.Sprintf("raised: %.1f fps leaves room above the target %g", fps, t))
		return true
	default:
		k.state.Floor = false
		k.roomy = 0
		if k.rung == 0 {
			k.state.Cause, k.state.Reason = "full", fmt.Sprintf("full size: %.1f fps holds the target %g", fps, t)
		} else {
			k.state.Cause, k.state.Reason = "holding", fmt.Sprintf("holding: %.1f fps at the target %g", fps, t)
		}
		return false
	}
}

func (k *Controller) move(rung int, cause, reason string) {
	k.rung, k.roomy, k.settle = rung, 0, true
	k.state.Level, k.state.Rung, k.state.Cause, k.state.Reason = k.ladder[rung], rung, cause, reason
	k.state.Floor = false
}
