// Package mailbox hands the newest value from one goroutine to others, the
// way every stage of reverie hands over to the next: a slow reader skips
// stale values, never queues them, and the writer never waits for a reader.
//
// The writer fills a value no reader can see and publishes it by swapping a
// pointer under the lock. A reader asks for anything newer than the last
// value it took and copies it outside the lock; the slot it copies from is
// pinned meanwhile, and the writer goes on with another. Three slots serve a
// writer and one reader; a slot is added only while more readers copy at
// once, so in steady state nothing is allocated.
package mailbox

import "sync"

// Funcs are what a Box needs to know about its values.
type Funcs[T any] struct {
	New  func() T          // a fresh value to fill; nil for T's zero value
	Copy func(dst, src *T) // copies src into dst, reusing dst's storage
	Free func(*T)          // releases a value (a Mat); nil when nothing to do
}

// Box holds the newest value of T for one writer and any number of readers.
type Box[T any] struct {
	fn    Funcs[T]
	ready chan struct{}

	mu     sync.Mutex
	back   *slot[T]   // the writer's, filled between Publishes
	newest *slot[T]   // nil before the first Publish
	spare  []*slot[T] // slots neither back nor newest that no reader holds
	seq    uint64
	closed bool
}

type slot[T any] struct {
	v    T
	seq  uint64
	pins int // readers copying from it now
}

// New returns an empty Box.
func New[T any](fn Funcs[T]) *Box[T] {
	b := &Box[T]{fn: fn, ready: make(chan struct{}, 1)}
	b.back = b.newSlot()
	return b
}

func (b *Box[T]) newSlot() *slot[T] {
	s := &slot[T]{}
	if b.fn.New != nil {
		s.v = b.fn.New()
	}
	return s
}

// Back is the value the writer fills next. It belongs to the writer alone
// until Publish; the writer fills it in place, often without a copy (a
// camera reads straight into it).
func (b *Box[T]) Back() *T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &b.back.v
}

// Publish makes the back value the newest, wakes a reader waiting on Ready,
// and returns the new value's sequence number: 1 for the first, then
// counting up. The value it replaces becomes the next back unless a reader
// is copying from it.
func (b *Box[T]) Publish() uint64 {
	b.mu.Lock()
	b.seq++
	seq := b.seq
	b.back.seq = seq
	old := b.newest
	b.newest = b.back
	b.back = nil
	switch {
	case old != nil && old.pins == 0:
		b.back = old
	case len(b.spare) > 0:
		b.back = b.spare[len(b.spare)-1]
		b.spare = b.spare[:len(b.spare)-1]
	}
	if b.back == nil {
		// Every other slot is being read: grow by one, outside the lock.
		b.mu.Unlock()
		s := b.newSlot()
		b.mu.Lock()
		b.back = s
	}
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default: // a token is waiting already; the reader takes the newest
	}
	return seq
}

// Newest is the newest published value, nil before the first. Only the
// writer may call it (a reader uses Latest), and only to read: the writer
// is the one who could reuse the value, at its next Publish.
func (b *Box[T]) Newest() *T {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.newest == nil {
		return nil
	}
	return &b.newest.v
}

// Seq is the newest value's sequence number, 0 before the first.
func (b *Box[T]) Seq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Ready receives a token after a Publish. It holds one token, so one waiting
// reader wakes and finds the newest value, never a queue of old ones.
func (b *Box[T]) Ready() <-chan struct{} { return b.ready }

// Latest copies the newest value into dst if it is not the one numbered
// since (the sequence number the reader last got, 0 for none), and returns
// its sequence number. ok is false, and dst untouched, when nothing new has
// been published or the box is closed: a reader then has nothing to do. Any
// number of goroutines may call it.
func (b *Box[T]) Latest(dst *T, since uint64) (seq uint64, ok bool) {
	s, seq, ok := b.pin(since)
	if !ok {
		return since, false
	}
	b.fn.Copy(dst, &s.v)
	b.unpin(s)
	return seq, true
}

// Read is Latest without the copy: it calls read on the newest value in
// place, which stays the reader's until read returns. read must not keep
// the pointer or change the value. A reader that converts the value anyway
// (a picture into a tensor) saves a copy. read should be made once (a
// method value kept in a field): a closure made per call allocates.
func (b *Box[T]) Read(since uint64, read func(*T)) (seq uint64, ok bool) {
	s, seq, ok := b.pin(since)
	if !ok {
		return since, false
	}
	read(&s.v)
	b.unpin(s)
	return seq, true
}

// pin holds the newest slot for a reader, if it is newer than since.
func (b *Box[T]) pin(since uint64) (*slot[T], uint64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.newest
	if b.closed || s == nil || s.seq == since {
		return nil, since, false
	}
	s.pins++
	return s, s.seq, true // the writer renumbers the slot once it is free again
}

// unpin lets the writer have a slot again once no reader holds it.
func (b *Box[T]) unpin(s *slot[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.pins--
	if s.pins == 0 && s != b.newest {
		if b.closed {
			b.free(s)
		} else {
			b.spare = append(b.spare, s)
		}
	}
}

// Close frees every value; readers get nothing new after it. A value a
// reader is copying is freed when the copy is done. The writer must not use
// the box after Close.
func (b *Box[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, s := range b.spare {
		b.free(s)
	}
	b.spare = nil
	if b.back != nil {
		b.free(b.back)
		b.back = nil
	}
	if s := b.newest; s != nil && s.pins == 0 {
		b.free(s)
	}
	// A pinned newest is freed by its last reader, as it is no longer
	// b.newest then.
	b.newest = nil
}

func (b *Box[T]) free(s *slot[T]) {
	if b.fn.Free != nil {
		b.fn.Free(&s.v)
	}
}
