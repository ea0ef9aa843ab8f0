package audio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDevice plays samples in periods from its own goroutine, as a sound
// card's thread would, and can be unplugged.
type fakeDevice struct {
	mu      sync.Mutex
	opens   int
	fail    error // the next open fails with it
	unplug  chan struct{}
	samples []float32
}

func (f *fakeDevice) open(d DeviceConfig, onData func([]float32), onStop func()) (capture, string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	if err := f.fail; err != nil {
		f.fail = nil
		return nil, "", 0, err
	}
	done := make(chan struct{})
	unplug := f.unplug
	go func() {
		period := 48000 * d.PeriodMs / 1000
		for i := 0; ; i = (i + period) % (len(f.samples) - period) {
			select {
			case <-done:
				return
			case <-unplug:
				onStop()
				<-done
				return
			default:
			}
			onData(f.samples[i : i+period])
			time.Sleep(time.Millisecond)
		}
	}()
	return closer(func() { close(done) }), "fake input", 48000, nil
}

type closer func()

func (c closer) Close() { c() }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

func TestLiveListensLosesAndReopens(t *testing.T) {
	samples, _ := clickTrack(48000, 120, 0.1, 3, 5)
	dev := &fakeDevice{fail: errors.New("audio: no capture device found"), unplug: make(chan struct{}), samples: samples}
	dc := DefaultDeviceConfig()
	dc.Retry = 100 * time.Millisecond
	l, err := newLive(DefaultConfig(), dc, slog.New(slog.NewTextHandler(io.Discard, nil)), dev.open)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()

	waitFor(t, "the missing device to be reported", func() bool {
		s := l.Status()
		return s.State == "lost" && strings.Contains(s.Error, "no capture device")
	})
	waitFor(t, "the retry to listen", func() bool { return l.Status().State == "listening" })
	var f Features
	var seq uint64
	waitFor(t, "onsets from the device", func() bool {
		if s, ok := l.Box().Latest(&f, seq); ok {
			seq = s
		}
		return f.Onsets >= 2 && f.Level > 0
	})

	close(dev.unplug)
	waitFor(t, "the unplugged device to be reported", func() bool {
		s := l.Status()
		return s.State == "lost" && strings.Contains(s.Error, "fake input stopped")
	})
	dev.mu.Lock()
	dev.unplug = make(chan struct{})
	dev.mu.Unlock()
	waitFor(t, "the device to be opened again", func() bool { return l.Status().State == "listening" })
	cancel()
	<-done
	if _, ok := l.Box().Latest(&f, 0); ok {
		t.Error("the box still hands out features after Run returned")
	}
}

// On a machine without a sound card (this one) the real device fails with
// a sentence, never a panic, and Live reports it and keeps trying.
func TestRealDeviceMissingIsReported(t *testing.T) {
	c, name, _, err := openDevice(DefaultDeviceConfig(), func([]float32) {}, func() {})
	if err == nil {
		c.Close()
		t.Skipf("this machine has a capture device (%s)", name)
	}
	if !strings.HasPrefix(err.Error(), "audio") {
		t.Errorf("error %q; want one that says it is about audio", err)
	}
	t.Logf("without a device: %v", err)
	dc := DefaultDeviceConfig()
	dc.Retry = 100 * time.Millisecond
	l, err := NewLive(DefaultConfig(), dc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	waitFor(t, "the missing device in the status", func() bool { return l.Status().State == "lost" })
	cancel()
	<-done
}

func TestDeviceConfigValidateNamesTheKey(t *testing.T) {
	d := DefaultDeviceConfig()
	d.PeriodMs = 0
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "period_ms: 0") {
		t.Errorf("period 0: %v", err)
	}
	c := DefaultConfig()
	c.Block = 500
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "block: 500") {
		t.Errorf("block 500: %v", err)
	}
}
