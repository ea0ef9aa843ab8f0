package audio

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// audio.source naming a WAV file plays it in real time as a device would:
// missing, it is reported with its name and tried again; once there, its
// clicks arrive as onsets through the mailbox.
func TestSectionPlaysAFileLikeADevice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rehearsal.wav")
	s := DefaultSection()
	s.Source, s.RetryS = path, 0.1
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	l, err := s.Listen(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the missing file reported", func() bool {
		st := l.Status()
		return st.State == "lost" && strings.Contains(st.Error, path)
	})
	samples, _ := ClickTrack(48000, 240, 0.05, 1, 3) // a click every 0.25 s
	if err := os.WriteFile(path, EncodeWAV(48000, 1, false, samples), 0o644); err != nil {
		t.Fatal(err)
	}
	var f Features
	var seq uint64
	waitFor(t, "clicks from the file", func() bool {
		if n, ok := l.Box().Latest(&f, seq); ok {
			seq = n
		}
		return f.Onsets >= 2
	})
	if st := l.Status(); st.State != "listening" || st.Device != "file "+path || st.Rate != 48000 {
		t.Errorf("status %+v; want listening to file %s at 48000 Hz", st, path)
	}
	if DefaultSection().On() || s.String() != "file "+path {
		t.Errorf("default on %v, describes itself as %q", DefaultSection().On(), s.String())
	}
}
