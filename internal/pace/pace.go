// Package pace holds the share of the machine a background stage (the
// generator, the neural dream) may use, as the frame budget sets it: after
// work that took d, a stage with share s rests d·(1/s − 1), so it keeps
// about s of a core busy and leaves the rest to the display.
package pace

import (
	"math"
	"sync/atomic"
	"time"
)

// Share is a share in (0, 1]; the zero value is 1 (no rest). Set and Get
// are safe from any goroutine.
type Share struct{ bits atomic.Uint64 }

// Set stores s; a value outside (0, 1] (NaN included) stores 1.
func (p *Share) Set(s float64) {
	if !(s > 0) || s > 1 {
		s = 1
	}
	p.bits.Store(math.Float64bits(s))
}

// Get is the share, 1 until Set.
func (p *Share) Get() float64 {
	if b := p.bits.Load(); b != 0 {
		return math.Float64frombits(b)
	}
	return 1
}

// Gap is the least time from the start of work that took busy to the start
// of the next: busy at share 1, busy/share below it.
func (p *Share) Gap(busy time.Duration) time.Duration {
	return time.Duration(float64(busy) / p.Get())
}
