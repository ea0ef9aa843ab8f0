package vision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
	if st != StateDamaged || err == nil || !strings.Contains(err.Error(), cut) {
		t.Errorf("playing the damaged file again: state %s, err %v; want damaged naming the file", st, err)
	}

	cancel()
	<-done
}

// cutShort plays the sample clip and, while version is 1, reports it
// damaged at frame 50 of 795, naming path.
type cutShort struct {
	Source
	path    string
	version *atomic.Int32
	v       int32
	frames  int
}

func (c *cutShort) Paced() bool  { return true }
func (c *cutShort) Name() string { return c.path }

func (c *cutShort) Read(dst *gocv.Mat) error {
	if c.v == 1 && c.frames == 49 {
		return &DamagedError{File: c.path, Frame: 50, Declared: 795}
	}
	c.frames++
	return c.Source.Read(dst)
}

// A damaged file that is replaced is judged afresh at the next reopen: it
// plays as ok from its first frame, instead of being called damaged until
// it has played past the old damage; a file left as it was stays damaged.
func TestReplacedDamagedFileIsJudgedAfresh(t *testing.T) {
	checkMats(t)
	path := filepath.Join(t.TempDir(), "clip.avi")
	if err := os.WriteFile(path, []byte("version 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	var version atomic.Int32
	version.Store(1)
	var mu sync.Mutex
	var current *cutShort
	open := func() (Source, error) {
		src, err := OpenSource(DefaultConfig(), SampleClip)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		current = &cutShort{Source: src, path: path, version: &version, v: version.Load()}
		return current, nil
	}
	src, _ := open()
	c := NewCapture(src, open)
	var okAfter atomic.Int32 // frames the replaced file had played when the state turned ok
	okAfter.Store(-1)
	damagedTwice := make(chan struct{}, 8)
	c.OnState = func(s State, _ error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case s == StateOK && current.v == 2:
			okAfter.CompareAndSwap(-1, int32(current.frames))
		case s == StateDamaged:
			damagedTwice <- struct{}{}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-damagedTwice
	waitFor(t, "the damaged file reopened and played again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return current.v == 1 && current != src && current.frames > 10
	})
	if s, _ := c.State(); s != StateDamaged {
		t.Errorf("the same damaged file reopened: state %s, want damaged", s)
	}
	// The copy is put back: another size, so another file.
	if err := os.WriteFile(path, []byte("version 2, whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	version.Store(2)
	waitFor(t, "the replaced file to play as ok", func() bool { return okAfter.Load() >= 0 })
	if n := okAfter.Load(); n > 2 {
		t.Errorf("the replaced file was called damaged for its first %d frames, until it played past the old damage (50)", n)
	}
}
