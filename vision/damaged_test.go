package vision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// truncatedClip writes the first bytes of the sample clip, as a copy cut
// short by a full disk or a pulled USB stick leaves it.
func truncatedClip(t *testing.T, bytes int) string {
	t.Helper()
	data, err := os.ReadFile(SampleClip)
	if err != nil {
		t.Skipf("sample clip: %v", err)
	}
	p := filepath.Join(t.TempDir(), "cut.avi")
	if err := os.WriteFile(p, data[:bytes], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTruncatedFileDamaged: a truncated video is reported as damaged,
// naming the file and the first frame that cannot be read, where before it
// passed for a short clip; the whole file reads to its end without one.
func TestTruncatedFileDamaged(t *testing.T) {
	checkMats(t)
	readAll := func(path string) (int, error) {
		c := DefaultConfig()
		c.AtEnd = "stop"
		src, err := OpenSource(c, path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		m := gocv.NewMat()
		defer m.Close()
		n := 0
		for {
			if err := src.Read(&m); err != nil {
				return n, err
			}
			n++
		}
	}
	n, err := readAll(SampleClip)
	if !errors.Is(err, ErrEnd) || n != 795 {
		t.Fatalf("the whole sample clip: %d frames then %v, want 795 then the end", n, err)
	}
	cut := truncatedClip(t, 600_000)
	n, err = readAll(cut)
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("a truncated clip: %d frames then %v, want a DamagedError", n, err)
	}
	if de.File != cut || de.Frame != n+1 || de.Declared != 795 {
		t.Errorf("damage reported as %+v after %d frames, want file %s, frame %d of 795", de, n, cut, n+1)
	}
	if msg := err.Error(); !strings.Contains(msg, cut) || !strings.Contains(msg, "damaged") {
		t.Errorf("the error %q does not name the file and say it is damaged", msg)
	}

	// Live, the frames before the damage play in a loop and the state
	// says damaged throughout, not ok.
	c := DefaultConfig()
	c.Source = cut
	open := func() (Source, error) { return OpenSource(c, cut) }
	src, err := open()
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(c, src, open)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	waitFor(t, "the damage to be found", func() bool { s, _ := w.Capture.State(); return s == StateDamaged })
	var f Features
	seq, _ := w.Latest(&f, 0)
	waitFor(t, "frames after the damage", func() bool { s, _ := w.Latest(&f, 0); return s > seq+5 })
	st, err := w.Capture.State()
	cancel()
	<-done
	if st != StateDamaged || err == nil || !strings.Contains(err.Error(), cut) {
		t.Errorf("playing the damaged file again: state %s, err %v; want damaged naming the file", st, err)
	}
}
