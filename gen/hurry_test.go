package gen

import (
	"context"
	"testing"
	"time"
)

// slotResult is what one awaitSlot call returned, and when (virtual time).
type slotResult struct {
	ok, hurried bool
	at          time.Time
}

// awaitAsync runs awaitSlot on its own goroutine, as Run does.
func awaitAsync(r *Runner, clk *virtualClock, last time.Time, busy time.Duration, hurriedAt time.Time) <-chan slotResult {
	out := make(chan slotResult, 1)
	timer := clk.NewTimer()
	go func() {
		ok, h := r.awaitSlot(context.Background(), timer, last, busy, hurriedAt)
		out <- slotResult{ok, h, clk.Now()}
	}()
	return out
}

func slotOrFail(t *testing.T, ch <-chan slotResult, what string) slotResult {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second): // a hang guard, not a rate
		t.Fatalf("%s: awaitSlot never returned", what)
		return slotResult{}
	}
}

// Under a share of 0.1 a frame that took 10 ms waits 100 ms for its slot;
// a hurry starts it at once, even one that comes while it waits, unless
// the last hurried frame started within two slots; a max_fps cap is still
// kept. Timed on a virtual clock.
func TestHurryAnswersBeforeTheSharesSlot(t *testing.T) {
	r := newCPPNRunner(t, 16, 16)
	defer r.Close()
	clk := newVirtualClock()
	r.SetClock(clk)
	r.SetShare(0.1)
	const busy = 10 * time.Millisecond // the slot is 100 ms after the last start

	// No hurry: the slot.
	last := clk.Now()
	clk.advance(20 * time.Millisecond)
	ch := awaitAsync(r, clk, last, busy, time.Time{})
	untilWaiting(t, clk)
	clk.advance(79 * time.Millisecond)
	if !clk.waiting() {
		t.Fatal("the share's slot was not kept: the runner stopped waiting 1 ms early")
	}
	clk.advance(time.Millisecond)
	if s := slotOrFail(t, ch, "no hurry"); !s.ok || s.hurried || s.at.Sub(last) != 100*time.Millisecond {
		t.Errorf("no hurry: %+v at +%v, want the slot at +100ms, not hurried", s, s.at.Sub(last))
	}

	// A hurry that comes while the runner waits wakes it at once.
	last = clk.Now()
	clk.advance(20 * time.Millisecond)
	ch = awaitAsync(r, clk, last, busy, time.Time{})
	untilWaiting(t, clk)
	r.Hurry()
	if s := slotOrFail(t, ch, "hurry while waiting"); !s.ok || !s.hurried || s.at.Sub(last) != 20*time.Millisecond {
		t.Errorf("hurry while waiting: %+v at +%v, want at once (+20ms), hurried", s, s.at.Sub(last))
	}

	// A hurry within two slots of the last hurried frame waits as usual.
	hurriedAt := clk.Now()
	r.Hurry()
	last = clk.Now()
	clk.advance(20 * time.Millisecond)
	ch = awaitAsync(r, clk, last, busy, hurriedAt)
	untilWaiting(t, clk)
	clk.advance(80 * time.Millisecond)
	if s := slotOrFail(t, ch, "a second hurry"); !s.ok || s.hurried || s.at.Sub(last) != 100*time.Millisecond {
		t.Errorf("a second hurry 20 ms after the first: %+v at +%v, want the slot at +100ms", s, s.at.Sub(last))
	}

	// Two slots later a hurry counts again, but a cap of 25 fps (40 ms) is
	// kept.
	r.SetMaxFPS(25)
	last = clk.Now()
	clk.advance(20 * time.Millisecond)
	ch = awaitAsync(r, clk, last, busy, hurriedAt) // 120 ms after it: not yet
	untilWaiting(t, clk)
	clk.advance(80 * time.Millisecond)
	slotOrFail(t, ch, "the slot before the cap check")
	last = clk.Now()
	clk.advance(20 * time.Millisecond) // 220 ms after the hurried frame
	ch = awaitAsync(r, clk, last, busy, hurriedAt)
	untilWaiting(t, clk)
	clk.advance(19 * time.Millisecond)
	if !clk.waiting() {
		t.Error("a hurry broke the max_fps cap")
	}
	clk.advance(time.Millisecond)
	if s := slotOrFail(t, ch, "hurry under a cap"); !s.ok || !s.hurried || s.at.Sub(last) != 40*time.Millisecond {
		t.Errorf("hurry under a 40 ms cap: %+v at +%v, want the cap's slot (+40ms), hurried", s, s.at.Sub(last))
	}
}
