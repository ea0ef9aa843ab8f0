package split

import (
	"sync/atomic"
	"testing"
)

// counter records which indices a call ran and how many parts it made.
type counter struct {
	hits  []atomic.Int32
	parts atomic.Int32
	fn    func(lo, hi int)
}

func newCounter(n int) *counter {
	c := &counter{hits: make([]atomic.Int32, n)}
	c.fn = c.run
	return c
}

func (c *counter) run(lo, hi int) {
	if lo < hi {
		c.parts.Add(1)
	}
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

// Every index runs exactly once, however n divides, and a small range is
// not cut.
func TestEveryIndexOnce(t *testing.T) {
	p := New()
	defer p.Close()
	for _, tc := range []struct{ n, minPart, maxParts int }{
		{0, 10, 0}, {1, 10, 1}, {9, 10, 1}, {10, 10, 1}, {19, 10, 1}, {20, 10, 2}, {1001, 10, MaxParts}, {7, 1, MaxParts}, {100000, 16384, MaxParts},
	} {
		c := newCounter(tc.n)
		p.Do(tc.n, tc.minPart, c.fn)
		for i := range c.hits {
			if h := c.hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d ran %d times, want once", tc.n, i, h)
			}
		}
		want := min(tc.maxParts, len(p.work)+1)
		if tc.maxParts <= 1 {
			want = tc.maxParts
		}
		if got := int(c.parts.Load()); got > want || (want > 0 && got < 1) {
			t.Errorf("n=%d minPart=%d: %d parts, want at most %d", tc.n, tc.minPart, got, want)
		}
	}
}

// With more than one core the parts run at once: each waits until all
// have started, which would deadlock if they ran one after another.
func TestPartsRunAtOnce(t *testing.T) {
	p := New()
	defer p.Close()
	parts := len(p.work) + 1
	if parts < 2 {
		t.Skip("one core: parts run on the caller")
	}
	var started atomic.Int32
	waited := make(chan bool, parts)
	fn := func(lo, hi int) {
		started.Add(1)
		for i := 0; started.Load() < int32(parts) && i < 1e8; i++ {
		}
		waited <- started.Load() == int32(parts)
	}
	p.Do(parts, 1, fn)
	for i := 0; i < parts; i++ {
		if !<-waited {
			t.Fatal("a part finished before the others started: the parts ran one after another")
		}
	}
}

// A call allocates nothing; a closed pool and a nil one run on the caller.
func TestNoAllocationsAndClose(t *testing.T) {
	p := New()
	c := newCounter(1 << 16)
	if a := testing.AllocsPerRun(20, func() { p.Do(1<<16, 1024, c.fn) }); a != 0 {
		t.Errorf("Do allocates %v times a call", a)
	}
	p.Close()
	p.Close()
	var nilPool *Pool
	for _, q := range []*Pool{p, nilPool, {}} {
		c := newCounter(100)
		q.Do(100, 1, c.fn)
		if c.parts.Load() != 1 || c.hits[99].Load() != 1 {
			t.Errorf("a closed, nil or zero pool made %d parts, want 1 on the caller", c.parts.Load())
		}
	}
}
