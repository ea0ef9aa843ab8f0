package control

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Event is one logged warning or error, as /api/status shows it.
type Event struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
	Attrs string    `json:"attrs,omitempty"`
}

// Journal keeps the most recent warnings and errors, so a technician sees
// what went wrong without reading the logs. It is fed by a slog handler, so
// every degradation that is logged is also shown.
type Journal struct {
	mu     sync.Mutex
	ring   []Event
	next   int
	full   bool
	counts map[string]uint64
}

// NewJournal keeps the last n events.
func NewJournal(n int) *Journal {
	return &Journal{ring: make([]Event, n), counts: map[string]uint64{}}
}

// Add records an event.
func (j *Journal) Add(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ring[j.next] = e
	j.next = (j.next + 1) % len(j.ring)
	j.full = j.full || j.next == 0
	j.counts[e.Level]++
}

// Recent returns the events, newest first.
func (j *Journal) Recent() []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.next
	if j.full {
		n = len(j.ring)
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, j.ring[(j.next-i+len(j.ring))%len(j.ring)])
	}
	return out
}

// Counts returns how many events were recorded per level since start.
func (j *Journal) Counts() map[string]uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]uint64, len(j.counts))
	for k, v := range j.counts {
		out[k] = v
	}
	return out
}

// Handler wraps next so that warnings and errors also go to the journal.
func (j *Journal) Handler(next slog.Handler) slog.Handler {
	return &journalHandler{next: next, j: j}
}

type journalHandler struct {
	next  slog.Handler
	j     *Journal
	attrs []slog.Attr
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		add := func(a slog.Attr) bool {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%v", a.Key, a.Value)
			return true
		}
		for _, a := range h.attrs {
			add(a)
		}
		r.Attrs(add)
		h.j.Add(Event{Time: r.Time, Level: strings.ToLower(r.Level.String()), Msg: r.Message, Attrs: b.String()})
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{next: h.next.WithAttrs(as), j: h.j, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{next: h.next.WithGroup(name), j: h.j, attrs: h.attrs}
}

// limiter lets through at most one event per key per interval, so a flood
// of bad requests or packets costs one log line, not thousands.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	last  map[string]time.Time
	drop  map[string]int
}

func newLimiter(every time.Duration) *limiter {
	return &limiter{every: every, last: map[string]time.Time{}, drop: map[string]int{}}
}

// allow reports whether key may log now, and how many were suppressed since
// it last could.
func (l *limiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last[key]) < l.every {
		l.drop[key]++
		return false, 0
	}
	l.last[key] = now
	n := l.drop[key]
	l.drop[key] = 0
	if len(l.last) > 1024 { // keys come from the network: bound the map
		clear(l.last)
		clear(l.drop)
	}
	return true, n
}
