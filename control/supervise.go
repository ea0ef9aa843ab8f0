package control

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"reverie/control/systemd"
)

// Fault is one degradation or notable event, as /api/status lists it.
type Fault struct {
	Since   time.Time  `json:"since"`
	What    string     `json:"what"`
	Detail  string     `json:"detail"`
	Cleared *time.Time `json:"cleared,omitempty"`
}

// health tracks the current degradations and a short history of faults.
type health struct {
	mu      sync.Mutex
	active  map[string]*Fault
	past    []Fault // newest last, bounded
	genSeen uint64
	genAt   time.Time
}

const faultHistory = 32

// startGrace is how long the render loop may take to draw its first frame
// before that counts as a fault.
const startGrace = 30 * time.Second

func newHealth() *health { return &health{active: map[string]*Fault{}} }

// set makes what degraded with detail, or clears it when detail is "". It
// logs each change once, never each check.
func (h *health) set(what, detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, on := h.active[what]
	switch {
	case detail != "" && !on:
		h.active[what] = &Fault{Since: time.Now(), What: what, Detail: detail}
		slog.Warn("degraded: "+what, "detail", detail)
	case detail != "" && on:
		f.Detail = detail
	case detail == "" && on:
		now := time.Now()
		f.Cleared = &now
		delete(h.active, what)
		h.push(*f)
		slog.Info("recovered: "+what, "after", now.Sub(f.Since).Round(time.Second).String())
	}
}

// record notes a one-off event (a model switch, a rejected reload).
func (h *health) record(detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	h.push(Fault{Since: now, What: "event", Detail: detail, Cleared: &now})
}

func (h *health) push(f Fault) {
	h.past = append(h.past, f)
	if len(h.past) > faultHistory {
		h.past = h.past[len(h.past)-faultHistory:]
	}
}

func (h *health) current() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []string{}
	for _, f := range h.active {
		out = append(out, f.What+": "+f.Detail)
	}
	sort.Strings(out)
	return out
}

// history is the active faults then the past ones, newest first.
func (h *health) history() []Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Fault, 0, len(h.active)+len(h.past))
	for _, f := range h.active {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.After(out[j].Since) })
	for i := len(h.past) - 1; i >= 0; i-- {
		out = append(out, h.past[i])
	}
	return out
}

// Supervise checks the installation once a second until ctx ends: it keeps
// the degradation list, applies the schedule, and feeds systemd's watchdog
// only while the render loop is alive, so a hung loop gets restarted.
func (s *Server) Supervise(ctx context.Context) {
	every := time.Second
	wd := systemd.WatchdogInterval()
	if wd > 0 && wd/3 < every {
		every = wd / 3
	}
	t := time.NewTicker(every)
	defer t.Stop()
	ready := false
	open, first := true, true
	var heldPreset string
	for {
		alive, reason := s.alive()
		if alive {
			if !ready {
				ready = true
				notify("READY=1")
			}
			if wd > 0 {
				notify("WATCHDOG=1")
			}
		}
		s.checkHealth(alive, reason)
		now := time.Now()
		s.mu.Lock()
		isOpen, outside := s.sched.Open(now), s.cfg.Schedule.Outside
		s.mu.Unlock()
		if isOpen != open || first {
			heldPreset = s.applySchedule(isOpen, outside, heldPreset, first)
			open, first = isOpen, false
		}
		select {
		case <-ctx.Done():
			notify("STOPPING=1")
			return
		case <-t.C:
		}
	}
}

// applySchedule opens or closes the piece. Closed shows black (the scene
// sleeps and stops feeding the generator) or a calm preset; opening again
// restores the preset that was on before.
func (s *Server) applySchedule(open bool, outside, held string, first bool) string {
	if open {
		if first {
			return held
		}
		s.eng.SetSleep(false)
		if outside != "black" && held != "" {
			if err := s.eng.ApplyPreset(held); err != nil {
				slog.Error("schedule: cannot restore the preset", "preset", held, "err", err)
			}
		}
		slog.Info("schedule: opening hours begin; the piece runs")
		return ""
	}
	held = s.eng.Stats().Preset
	if outside == "black" {
		s.eng.SetSleep(true)
		slog.Info("schedule: outside opening hours; showing black")
		return held
	}
	if err := s.eng.ApplyPreset(outside); err != nil {
		slog.Error("schedule: the preset for closed hours cannot be applied; showing black instead", "preset", outside, "err", err)
		s.eng.SetSleep(true)
		return held
	}
	slog.Info("schedule: outside opening hours; showing the calm preset", "preset", outside)
	return held
}

func (s *Server) checkHealth(alive bool, reason string) {
	h := s.health
	if !alive && s.eng.Stats().Heartbeat.IsZero() && time.Since(s.start) < startGrace {
		alive = true // still opening the window: not a fault yet
	}
	if alive {
		h.set("render", "")
	} else {
		h.set("render", reason)
	}
	c := s.eng.Camera()
	if c.State == "ok" {
		h.set("camera", "")
	} else {
		detail := c.State
		if c.Err != "" {
			detail += " (" + c.Err + "); the idle choreography runs"
		}
		h.set("camera", detail)
	}
	g := s.eng.Generator()
	d := s.eng.Stats()
	if why, off := strings.CutPrefix(d.Dream, "off: "); off {
		h.set("dream", why+"; the deepdream pass shows the picture unchanged")
	} else {
		h.set("dream", "")
	}
	now := time.Now()
	h.mu.Lock()
	if g.Frames != h.genSeen || d.Sleeping || h.genAt.IsZero() {
		h.genSeen, h.genAt = g.Frames, now
	}
	stalled := now.Sub(h.genAt)
	h.mu.Unlock()
	limit := time.Duration(s.config().StallAfter * float64(time.Second))
	if stalled > limit {
		detail := fmt.Sprintf("no new frame for %s; the feedback runs on the last good frame", stalled.Round(time.Second))
		if g.LastErr != "" {
			detail += " (last error: " + g.LastErr + ")"
		}
		h.set("generator", detail)
	} else {
		h.set("generator", "")
	}
}

func notify(state string) {
	if _, err := systemd.Notify(state); err != nil {
		slog.Debug("sd_notify failed", "state", state, "err", err)
	}
}
