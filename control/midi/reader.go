package midi

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// Reader reads messages from a byte stream: an ALSA raw MIDI device, a
// pipe, a socket. It reads in chunks into one buffer and allocates nothing
// per message.
type Reader struct {
	name string
	r    io.Reader
	p    Parser
	buf  [256]byte
	i, n int
}

// NewReader reads messages from r; name (a device path) is what errors say.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, r: r}
}

// Read returns the next message, waiting for it. When the stream ends (a
// controller unplugged, a pipe closed) it returns an error that wraps
// io.EOF and names the device.
func (r *Reader) Read() (Message, error) {
	for empty := 0; ; {
		for r.i < r.n {
			b := r.buf[r.i]
			r.i++
			if m, ok := r.p.Feed(b); ok {
				return m, nil
			}
		}
		n, err := r.r.Read(r.buf[:])
		r.i, r.n = 0, n
		if n > 0 {
			continue
		}
		if err == nil {
			if empty++; empty == 100 {
				return Message{}, fmt.Errorf("MIDI device %s: %w", r.name, io.ErrNoProgress)
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return Message{}, fmt.Errorf("MIDI device %s: the stream ended (unplugged?): %w", r.name, io.EOF)
		}
		return Message{}, fmt.Errorf("MIDI device %s: %w", r.name, unwrapPath(err))
	}
}

// Skipped counts the bytes skipped so far (system exclusive data, strays).
func (r *Reader) Skipped() uint64 { return r.p.Skipped }

// Device is an open ALSA raw MIDI input.
type Device struct {
	*Reader
	f *os.File
}

// Devices lists the raw MIDI devices present, in order: /dev/snd/midiC1D0 is
// card 1's first port. A class-compliant USB controller appears as one when
// plugged in.
func Devices() []string {
	paths, _ := filepath.Glob("/dev/snd/midiC*D*")
	sort.Strings(paths)
	return paths
}

// Open opens a raw MIDI device for reading. An empty path picks the first
// device present. The file is opened non-blocking, so Close from another
// goroutine ends a Read that waits.
func Open(path string) (*Device, error) {
	if path == "" {
		ds := Devices()
		if len(ds) == 0 {
			return nil, errors.New("MIDI: no raw MIDI device (/dev/snd/midiC*D*); plug in a class-compliant controller, or set midi.device")
		}
		path = ds[0]
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("MIDI device %s: %w%s", path, unwrapPath(err), hint(path))
	}
	st, err := f.Stat()
	if err == nil && st.Mode()&os.ModeCharDevice == 0 && st.Mode()&os.ModeNamedPipe == 0 {
		err = errors.New("not a character device; expected a raw MIDI device such as /dev/snd/midiC1D0")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("MIDI device %s: %w", path, unwrapPath(err))
	}
	return &Device{Reader: NewReader(f, path), f: f}, nil
}

func hint(path string) string {
	ds := Devices()
	if len(ds) == 0 {
		return " (no raw MIDI devices are present)"
	}
	return fmt.Sprintf(" (present: %v)", ds)
}

// Close closes the device; a Read waiting on it returns.
func (d *Device) Close() error { return d.f.Close() }

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
