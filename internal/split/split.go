// Package split runs a per-frame loop (a frame's pixel conversion) over
// several cores: the index range is cut into parts, one run by the caller
// and the others by helper goroutines that live as long as the Pool. A
// call allocates nothing, so the hot paths that use it stay
// allocation-free.
package split

import (
	"runtime"
	"sync"
)

// MaxParts bounds the parts one call is cut into: pixel loops are limited
// by memory bandwidth, which a few cores already saturate.
const MaxParts = 4

// part is one helper's share of a call.
type part struct {
	f      func(lo, hi int)
	lo, hi int
}

// Pool runs loops over up to MaxParts cores. Its zero value runs them on
// the caller alone; New starts the helpers. One goroutine at a time may
// call Do.
type Pool struct {
	work []chan part
	done chan struct{}
	once sync.Once
}

// New starts a pool over min(GOMAXPROCS, MaxParts) cores; Close stops it.
func New() *Pool {
	n := min(runtime.GOMAXPROCS(0), MaxParts)
	p := &Pool{done: make(chan struct{}, n)}
	for i := 1; i < n; i++ {
		c := make(chan part, 1)
		p.work = append(p.work, c)
		go func() {
			for w := range c {
				w.f(w.lo, w.hi)
				p.done <- struct{}{}
			}
		}()
	}
	return p
}

// Do runs f over [0, n) cut into contiguous parts of at least minPart
// indices (fewer parts when n is small), and returns when every part is
// done. f must be safe to run on disjoint ranges at once. f should be a
// value made once (a method value kept in a field), not a closure made per
// call, which would allocate.
func (p *Pool) Do(n, minPart int, f func(lo, hi int)) {
	parts := 1
	if p != nil {
		parts = min(len(p.work)+1, n/max(minPart, 1))
	}
	if parts <= 1 {
		f(0, n)
		return
	}
	size := (n + parts - 1) / parts
	for i := 1; i < parts; i++ {
		p.work[i-1] <- part{f: f, lo: i * size, hi: min(n, (i+1)*size)}
	}
	f(0, size)
	for i := 1; i < parts; i++ {
		<-p.done
	}
}

// Close stops the helpers; Do then runs on the caller alone. It is safe
// to call more than once, and on nil.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		for _, c := range p.work {
			close(c)
		}
		p.work = nil
	})
}
