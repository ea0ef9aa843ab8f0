package gen

import "time"

// Clock is the time a Runner paces and stamps its frames by: the wall clock
// in the installation, a virtual one in a test, so a test can check a frame
// rate cap by counting frames over virtual seconds instead of timing them.
type Clock interface {
	Now() time.Time
	// NewTimer returns a stopped Timer.
	NewTimer() Timer
}

// Timer is a Clock's time.Timer.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// WallClock is the real time.
type WallClock struct{}

// Now is time.Now.
func (WallClock) Now() time.Time { return time.Now() }

// NewTimer returns a stopped time.Timer.
func (WallClock) NewTimer() Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return wallTimer{t}
}

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time   { return w.t.C }
func (w wallTimer) Reset(d time.Duration) { w.t.Reset(d) }
func (w wallTimer) Stop()                 { w.t.Stop() }
