package audio

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"reverie/internal/devstatus"
	"reverie/internal/field"
	"reverie/internal/mailbox"
)

// DeviceConfig says which capture device Live listens to.
type DeviceConfig struct {
	// Device picks the capture device by a part of its name, as
	// PulseAudio or ALSA lists it ("USB", "Scarlett"); "" is the default
	// input.
	Device string `yaml:"device"`
	// Rate asks for a sample rate in Hz (48000); the device may give
	// another, and the analysis follows it.
	Rate int `yaml:"rate"`
	// PeriodMs is how often the device hands over sound, 1..50 ms (5). It
	// adds to the latency from sound to feature.
	PeriodMs int `yaml:"period_ms"`
	// Retry is how long to wait before opening a missing or lost device
	// again (5 s).
	Retry time.Duration `yaml:"-"`
}

// DefaultDeviceConfig listens to the default input.
func DefaultDeviceConfig() DeviceConfig {
	return DeviceConfig{Rate: 48000, PeriodMs: 5, Retry: 5 * time.Second}
}

// Validate reports the first bad value, naming its key below audio.
func (d DeviceConfig) Validate() error {
	switch {
	case d.Rate < 8000 || d.Rate > 192000:
		return &field.Error{Key: "rate", Msg: fmt.Sprintf("%d; expected 8000..192000 Hz", d.Rate)}
	case d.PeriodMs < 1 || d.PeriodMs > 50:
		return &field.Error{Key: "period_ms", Msg: fmt.Sprintf("%d; expected 1..50", d.PeriodMs)}
	case d.Retry < 100*time.Millisecond || d.Retry > 10*time.Minute:
		return &field.Error{Key: "retry", Msg: fmt.Sprintf("%v; expected 0.1..600 seconds", d.Retry.Seconds())}
	}
	return nil
}

// Status is what the technician sees of the sound input.
type Status struct {
	State    string    `json:"state"`            // "starting", "listening" or "lost"
	Device   string    `json:"device,omitempty"` // the device's name while listening
	Rate     int       `json:"rate,omitempty"`
	Error    string    `json:"error,omitempty"` // why it is lost
	Since    time.Time `json:"since"`
	Overruns uint64    `json:"overruns"` // samples dropped because analysis fell behind
}

// At is s begun at since, and what makes it new (devstatus.Status).
func (s Status) At(since time.Time) (Status, devstatus.Key) {
	s.Since = since
	return s, devstatus.Key{State: s.State, Device: s.Device, Error: s.Error}
}

// capture is an open device delivering mono float samples to a callback.
type capture interface{ Close() }

// opener opens a capture device. onData runs on the device's own thread
// with mono samples valid only during the call; onStop when the device
// stops by itself (unplugged).
type opener func(d DeviceConfig, onData func([]float32), onStop func()) (c capture, name string, rate int, err error)

// silenceLimit is how long a device may deliver nothing before it counts
// as lost: some drivers neither error nor stop when a USB interface goes.
const silenceLimit = 2 * time.Second

// Live analyses a capture device on its own goroutine and hands the newest
// Features over through a mailbox. A missing device, or one that vanishes,
// is reported in Status and the log, and opened again every Retry; the
// piece runs on without sound meanwhile.
type Live struct {
	cfg  Config
	dev  DeviceConfig
	open opener
	log  *slog.Logger
	box  *mailbox.Box[Features]

	// A single-producer single-consumer ring: the device thread writes,
	// Run reads, and neither waits for the other.
	ring       []float32
	head, tail atomic.Uint64
	overruns   atomic.Uint64
	heard      atomic.Int64 // unix nanoseconds of the last sound delivered
	wake       chan struct{}

	status *devstatus.Keeper[Status]
}

// NewLive prepares to listen; Run does the listening.
func NewLive(cfg Config, dev DeviceConfig, log *slog.Logger) (*Live, error) {
	return newLive(cfg, dev, log, openDevice)
}

func newLive(cfg Config, dev DeviceConfig, log *slog.Logger, open opener) (*Live, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := dev.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Live{cfg: cfg, dev: dev, open: open, log: log,
		box:    mailbox.New(mailbox.Funcs[Features]{Copy: func(d, s *Features) { *d = *s }}),
		ring:   make([]float32, 1<<15), // 0.68 s at 48 kHz
		wake:   make(chan struct{}, 1),
		status: devstatus.New(Status{State: "starting"})}, nil
}

// Box is where the newest Features appear, once per block. A reader that
// polls slower than blocks arrive compares Features.Onsets and Beats with
// the last it took, to see every onset and beat.
func (l *Live) Box() *mailbox.Box[Features] { return l.box }

// Status says whether the device is listening, or why not.
func (l *Live) Status() Status {
	s := l.status.Get()
	s.Overruns = l.overruns.Load()
	return s
}

func (l *Live) setStatus(s Status) {
	if !l.status.Set(s) {
		return // a device still missing is logged once, not every retry
	}
	if s.State == "lost" {
		l.log.Warn("sound input lost; the piece runs on without it", "error", s.Error, "retry", l.dev.Retry)
	} else {
		l.log.Info("sound input listening", "device", s.Device, "rate", s.Rate)
	}
}

// push runs on the device's thread: it must not wait or allocate.
func (l *Live) push(s []float32) {
	head, tail := l.head.Load(), l.tail.Load()
	free := uint64(len(l.ring)) - (head - tail)
	n := min(uint64(len(s)), free)
	if n < uint64(len(s)) {
		l.overruns.Add(uint64(len(s)) - n)
	}
	mask := uint64(len(l.ring) - 1)
	for i := range n {
		l.ring[(head+i)&mask] = s[i]
	}
	l.head.Store(head + n)
	l.heard.Store(time.Now().UnixNano())
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run listens until ctx ends, opening the device again whenever it is
// missing or lost. It closes the Box when it returns.
func (l *Live) Run(ctx context.Context) {
	defer l.box.Close()
	for ctx.Err() == nil {
		if err := l.listen(ctx); err != nil {
			l.setStatus(Status{State: "lost", Error: err.Error()})
		}
		select {
		case <-ctx.Done():
		case <-time.After(l.dev.Retry):
		}
	}
}

// listen runs one device from open to loss; it returns nil when ctx ends.
func (l *Live) listen(ctx context.Context) error {
	stopped := make(chan struct{}, 1)
	l.head.Store(0)
	l.tail.Store(0)
	l.heard.Store(time.Now().UnixNano())
	c, name, rate, err := l.open(l.dev, l.push, func() {
		select {
		case stopped <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer c.Close()
	an, err := NewAnalyzer(l.cfg, rate)
	if err != nil {
		return fmt.Errorf("audio device %s: %w", name, err)
	}
	l.setStatus(Status{State: "listening", Device: name, Rate: rate})
	tick := time.NewTicker(silenceLimit / 4)
	defer tick.Stop()
	mask := uint64(len(l.ring) - 1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-stopped:
			return fmt.Errorf("audio device %s stopped (unplugged?)", name)
		case <-tick.C:
			if time.Since(time.Unix(0, l.heard.Load())) > silenceLimit {
				return fmt.Errorf("audio device %s: no sound delivered for %v", name, silenceLimit)
			}
			continue
		case <-l.wake:
		}
		blocks := 0
		head, tail := l.head.Load(), l.tail.Load()
		for tail < head { // the ring's two contiguous pieces
			i := tail & mask
			end := min(uint64(len(l.ring)), i+(head-tail))
			blocks += an.Write(l.ring[i:end])
			tail += end - i
		}
		l.tail.Store(tail)
		if blocks > 0 {
			*l.box.Back() = an.Features()
			l.box.Publish()
		}
	}
}
