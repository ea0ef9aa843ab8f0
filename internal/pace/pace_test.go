package pace

import (
	"math"
	"testing"
	"time"
)

func TestShareGap(t *testing.T) {
	var p Share
	if p.Get() != 1 || p.Gap(40*time.Millisecond) != 40*time.Millisecond {
		t.Errorf("zero value: share %g, gap %v; want 1 and the work's own time", p.Get(), p.Gap(40*time.Millisecond))
	}
	p.Set(0.25)
	if g := p.Gap(40 * time.Millisecond); g != 160*time.Millisecond {
		t.Errorf("share 0.25: gap %v after 40 ms of work, want 160 ms", g)
	}
	for _, bad := range []float64{0, -1, 1.5, math.NaN(), math.Inf(1)} {
		p.Set(bad)
		if p.Get() != 1 {
			t.Errorf("Set(%g): share %g, want 1", bad, p.Get())
		}
	}
}
