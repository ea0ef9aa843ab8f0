// Package devstatus holds the status of an input device that a loop opens
// again and again (the sound input, the MIDI input) while the status page
// reads it. A new status is stamped with the time it began; setting the
// same one again changes nothing, so a device still missing is reported
// once, not every retry.
package devstatus

import (
	"sync"
	"time"
)

// Key is what makes a status new: its state, its device and its error.
type Key struct{ State, Device, Error string }

// Status is what a device's status type gives a Keeper.
type Status[S any] interface {
	// At is the status begun at since, and what makes it new.
	At(since time.Time) (S, Key)
}

// Keeper holds one device's current status, safe for concurrent use.
type Keeper[S Status[S]] struct {
	mu  sync.Mutex
	cur S
	key Key
}

// New is a Keeper holding s, begun now.
func New[S Status[S]](s S) *Keeper[S] {
	k := &Keeper[S]{}
	k.cur, k.key = s.At(time.Now())
	return k
}

// Get returns the current status.
func (k *Keeper[S]) Get() S {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur
}

// Set makes s the status, begun now, when its Key differs from the
// current one's; it says whether it did, for the caller to report it.
func (k *Keeper[S]) Set(s S) bool {
	s, key := s.At(time.Now())
	k.mu.Lock()
	defer k.mu.Unlock()
	if key == k.key {
		return false
	}
	k.cur, k.key = s, key
	return true
}

// Edit changes the current status in place, keeping when it began.
func (k *Keeper[S]) Edit(f func(*S)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(&k.cur)
	_, k.key = k.cur.At(time.Time{}) // the key only: the copy is dropped
}
