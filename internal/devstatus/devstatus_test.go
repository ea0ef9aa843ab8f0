package devstatus

import (
	"testing"
	"time"
)

type st struct {
	State, Error string
	Since        time.Time
	N            int
}

func (s st) At(since time.Time) (st, Key) {
	s.Since = since
	return s, Key{State: s.State, Error: s.Error}
}

func TestSetReportsEachChangeOnce(t *testing.T) {
	k := New(st{State: "off"})
	began := k.Get().Since
	if began.IsZero() {
		t.Fatal("New did not stamp the status")
	}
	if k.Set(st{State: "off", N: 1}) {
		t.Error("the same state and error again counted as a change")
	}
	if got := k.Get(); got.N != 0 || got.Since != began {
		t.Errorf("an unchanged Set replaced the status: %+v", got)
	}
	if !k.Set(st{State: "lost", Error: "unplugged"}) {
		t.Fatal("a new state did not count as a change")
	}
	if k.Set(st{State: "lost", Error: "unplugged"}) {
		t.Error("a device still lost counted as a change on the retry")
	}
	if !k.Set(st{State: "lost", Error: "busy"}) {
		t.Error("a new error did not count as a change")
	}
	lost := k.Get().Since
	k.Edit(func(s *st) { s.Error = "late" })
	if got := k.Get(); got.Error != "late" || got.Since != lost {
		t.Errorf("Edit: got %+v, want the error late and the time kept", got)
	}
	if !k.Set(st{State: "lost", Error: "busy"}) {
		t.Error("after Edit, the error before it did not count as a change")
	}
}
