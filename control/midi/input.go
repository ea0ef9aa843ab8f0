package midi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"reverie/internal/devstatus"
)

// Target is what MIDI drives: the piece's live parameters and presets, the
// same surface HTTP and OSC drive.
type Target interface {
	Set(name string, v float64) error
	ApplyPreset(name string) error
}

// Status is what the technician sees of the MIDI input.
type Status struct {
	State    string    `json:"state"`            // off, listening or lost
	Device   string    `json:"device,omitempty"` // the device's path while listening
	Error    string    `json:"error,omitempty"`  // why it is lost, or the last mapped message that failed
	Since    time.Time `json:"since"`
	Messages uint64    `json:"messages"` // messages read since the start
}

// At is s begun at since, and what makes it new (devstatus.Status).
func (s Status) At(since time.Time) (Status, devstatus.Key) {
	s.Since = since
	return s, devstatus.Key{State: s.State, Device: s.Device, Error: s.Error}
}

// Seen is a control change as it arrived, for MIDI learn.
type Seen struct {
	Channel int       `json:"channel"` // 1..16
	CC      int       `json:"cc"`
	Value   int       `json:"value"`
	At      time.Time `json:"at"`
}

// The backoff between attempts to open a missing or lost device.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 8 * time.Second
)

// Input reads the configured device on its own goroutine and applies what
// each message asks: a control change sets its parameter, a note recalls
// its preset. A missing or unplugged device is reported in Status and the
// log, once per cause, and opened again with backoff; the piece runs on.
// Mapping a message allocates nothing.
type Input struct {
	target  Target
	log     *slog.Logger
	mapping atomic.Pointer[Mapping]
	msgs    atomic.Uint64
	changed chan struct{} // the device setting changed

	mu      sync.Mutex
	cfg     Config
	learned []Control // bound by Learn since the start, on top of cfg
	last    Seen
	dev     *Device

	status *devstatus.Keeper[Status]
}

// NewInput prepares to read cfg's device into t; Run does the reading.
func NewInput(cfg Config, t Target, log *slog.Logger) (*Input, error) {
	m, err := NewMapping(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	in := &Input{target: t, log: log, cfg: cfg, changed: make(chan struct{}, 1),
		status: devstatus.New(Status{State: "off"})}
	in.mapping.Store(m)
	return in, nil
}

// SetConfig applies a reloaded midi section: the new mapping at once (with
// what Learn bound on top), and a new device by closing the old one.
func (in *Input) SetConfig(cfg Config) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	full := cfg
	for _, k := range in.learned {
		full = full.With(k)
	}
	m, err := NewMapping(full)
	if err != nil {
		return err
	}
	in.mapping.Store(m)
	if cfg.Device != in.cfg.Device {
		if in.dev != nil {
			in.dev.Close()
		}
		select {
		case in.changed <- struct{}{}:
		default:
		}
	}
	in.cfg = cfg
	return nil
}

// Status says whether the device is being read, or why not.
func (in *Input) Status() Status {
	s := in.status.Get()
	s.Messages = in.msgs.Load()
	return s
}

// Last is the last control change read, and whether there was one.
func (in *Input) Last() (Seen, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.last, !in.last.At.IsZero()
}

// Learned lists the controls Learn has bound, to copy into config.yaml.
func (in *Input) Learned() []Control {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Control{}, in.learned...)
}

// ErrNothingToLearn is Learn without a control change read in the last
// LearnWindow.
var ErrNothingToLearn = errors.New("no knob or fader moved in the last 30 s: move one, then choose the parameter")

// LearnWindow is how recent the control change Learn binds must be.
const LearnWindow = 30 * time.Second

// Learn binds the last control change read (on its channel) to param,
// mapping 0..127 onto lo..hi, from now on and until the piece stops. It
// returns the binding, as config.yaml would keep it.
func (in *Input) Learn(param string, lo, hi float64) (Control, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.last.At.IsZero() || time.Since(in.last.At) > LearnWindow {
		return Control{}, ErrNothingToLearn
	}
	k := Control{CC: in.last.CC, Channel: in.last.Channel, Param: param, Min: lo, Max: hi}
	var learned []Control
	for _, l := range in.learned {
		if l.CC != k.CC || l.Channel != k.Channel {
			learned = append(learned, l)
		}
	}
	learned = append(learned, k)
	full := in.cfg
	for _, l := range learned {
		full = full.With(l)
	}
	m, err := NewMapping(full)
	if err != nil {
		return Control{}, err
	}
	in.mapping.Store(m)
	in.learned = learned
	in.log.Info("MIDI learn: control bound; copy it into midi.controls in config.yaml to keep it", "control", k.YAML())
	return k, nil
}

func (in *Input) setStatus(s Status) {
	if !in.status.Set(s) {
		return // a device still missing is logged once, not every retry
	}
	switch s.State {
	case "lost":
		in.log.Warn("MIDI input lost; the piece runs on without it", "error", s.Error)
	case "listening":
		in.log.Info("MIDI input listening", "device", s.Device)
	}
}

// Run reads until ctx ends, opening the device again whenever it is missing
// or lost, with backoff (0.25 s, doubling up to 8 s).
func (in *Input) Run(ctx context.Context) {
	wait := retryMin
	for ctx.Err() == nil {
		in.mu.Lock()
		cfg := in.cfg
		in.mu.Unlock()
		if !cfg.On() {
			in.setStatus(Status{State: "off"})
			select {
			case <-ctx.Done():
			case <-in.changed:
			}
			continue
		}
		start := time.Now()
		if err := in.listen(ctx, cfg.Path()); err != nil && ctx.Err() == nil {
			in.setStatus(Status{State: "lost", Error: err.Error()})
		}
		if time.Since(start) > retryMax {
			wait = retryMin // it ran a while: a fresh loss starts the backoff over
		}
		select {
		case <-ctx.Done():
		case <-in.changed:
			wait = retryMin
		case <-time.After(wait):
			wait = min(2*wait, retryMax)
		}
	}
}

// listen reads one device from open to loss; it returns nil when ctx ends.
func (in *Input) listen(ctx context.Context, path string) error {
	d, err := Open(path)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.dev = d
	in.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { d.Close() })
	defer func() {
		stop()
		in.mu.Lock()
		in.dev = nil
		in.mu.Unlock()
		d.Close()
	}()
	in.setStatus(Status{State: "listening", Device: d.Reader.name})
	for {
		msg, err := d.Read()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		in.msgs.Add(1)
		in.handle(msg)
	}
}

// handle applies one message.
func (in *Input) handle(msg Message) {
	if msg.Kind == ControlChange {
		in.mu.Lock()
		in.last = Seen{Channel: int(msg.Channel) + 1, CC: int(msg.Data1), Value: int(msg.Data2), At: time.Now()}
		in.mu.Unlock()
	}
	a, ok := in.mapping.Load().Map(msg)
	if !ok {
		return
	}
	var err error
	if a.Param != "" {
		err = in.target.Set(a.Param, a.Value)
	} else {
		err = in.target.ApplyPreset(a.Preset)
	}
	if err != nil {
		// A mapping that no longer fits (a preset renamed by a reload, a
		// model input gone after a swap): shown in the status, not logged
		// per message.
		e := fmt.Sprintf("%v: %v", msg, err)
		in.status.Edit(func(s *Status) { s.Error = e })
	}
}
