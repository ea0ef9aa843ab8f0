package midi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu      sync.Mutex
	params  map[string]float64
	presets []string
}

func (r *recorder) Set(name string, v float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "gone" {
		return fmt.Errorf("no parameter %q", name)
	}
	r.params[name] = v
	return nil
}

func (r *recorder) ApplyPreset(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.presets = append(r.presets, name)
	return nil
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited 5 s for %s", what)
}

// A device that is missing is reported once while it is retried, read once
// it appears, reported again when it goes, and let go when turned off; a
// mapping that no longer fits shows in the status instead of the log.
func TestInputMissingPluggedUnpluggedOff(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "midiC1D0")
	var logBuf syncBuffer
	rec := &recorder{params: map[string]float64{}}
	cfg := Config{Device: dev, Controls: []Control{{CC: 7, Param: "level", Min: 0, Max: 1}, {CC: 8, Param: "gone", Min: 0, Max: 1}}}
	in, err := NewInput(cfg, rec, slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	eventually(t, "the missing device reported", func() bool {
		s := in.Status()
		return s.State == "lost" && strings.Contains(s.Error, dev) && strings.Contains(s.Error, "no such file")
	})
	time.Sleep(800 * time.Millisecond) // retries at 0.25 s and 0.5 s
	if err := mkfifo(dev); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the device read", func() bool { return in.Status().State == "listening" })
	w.Write([]byte{0xB0, 7, 127, 8, 1})
	eventually(t, "cc 7 applied and cc 8's failure shown", func() bool {
		rec.mu.Lock()
		v := rec.params["level"]
		rec.mu.Unlock()
		return v == 1 && strings.Contains(in.Status().Error, `"gone"`)
	})
	w.Close() // unplugged: the stream ends
	eventually(t, "the unplugged device reported", func() bool { return in.Status().State == "lost" })
	if err := in.SetConfig(Config{Device: "off"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the input off", func() bool { return in.Status().State == "off" })
	if n := strings.Count(logBuf.String(), "MIDI input lost"); n > 2 {
		t.Errorf("%d log lines for two losses:\n%s", n, logBuf.String())
	}
	if last, ok := in.Last(); !ok || last.CC != 8 || last.Channel != 1 || last.Value != 1 {
		t.Errorf("last control change %+v, %v; want cc 8 = 1 on channel 1", last, ok)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
