package conf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// reloadEvery is how often the config file is checked for changes.
const reloadEvery = 2 * time.Second

// settle is how long a changed config file must stay unchanged before it is
// read.
const settle = 300 * time.Millisecond

// Watch reloads path on SIGHUP and when its content changes, until
// ctx ends. A file that fails to load is rejected with the reason logged
// (and shown in /api/status); the running config stays.
func Watch(ctx context.Context, path string, cur Config, apply func(old, new Config)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	sum := fileSum(path)
	tick := time.NewTicker(reloadEvery)
	defer tick.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick.C:
			s := fileSum(path)
			if bytes.Equal(s, sum) {
				continue
			}
			if s == nil {
				sum = s
				slog.Warn("config file is gone; the running config stays", "file", path)
				continue
			}
			why = "file changed"
		}
		// An editor or a script may be half-way through writing, whatever
		// the trigger: an empty or still-changing file would apply the
		// defaults (and move the listeners). Take it once it has settled.
		s, ok := settled(ctx, path)
		if !ok {
			continue
		}
		sum = s
		if st, err := os.Stat(path); err == nil && st.Size() == 0 {
			slog.Warn("config file is empty; the running config stays", "file", path, "trigger", why)
			continue
		}
		next, err := Load(path, true)
		if err != nil {
			slog.Error("config reload rejected; the running config stays", "trigger", why, "err", OneLine(err))
			continue
		}
		slog.Info("config reloaded", "file", path, "trigger", why)
		apply(cur, next)
		cur = next
	}
}

// settled waits until path's content stays the same for settle, trying for
// a few seconds, and returns its sum.
func settled(ctx context.Context, path string) ([]byte, bool) {
	prev := fileSum(path)
	for i := 0; i < 10; i++ {
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(settle):
		}
		cur := fileSum(path)
		if cur != nil && bytes.Equal(cur, prev) {
			return cur, true
		}
		prev = cur
	}
	slog.Warn("config file keeps changing; the running config stays until it settles", "file", path)
	return nil, false
}

func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}

// OneLine flattens an error onto one line, for a log line or a terminal:
// YAML and OpenCV messages may span several.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
