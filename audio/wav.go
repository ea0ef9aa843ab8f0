package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"syscall"
)

// WAV streams the samples of a RIFF WAVE file, mixed down to mono: PCM of
// 16, 24 or 32 bits, or 32-bit float, any number of channels up to 8, at
// any rate from 4 to 768 kHz. It reads a block at a time into one buffer,
// so an hour-long file costs no more memory than a second.
type WAV struct {
	name     string
	r        io.ReadSeeker
	c        io.Closer
	rate     int
	channels int
	bits     int
	float    bool
	frames   int64 // sample frames in the data chunk
	pos      int64
	buf      []byte
}

// maxChunks bounds the chunks skipped before the data: each is a seek, and
// a hostile file could hold millions of empty ones.
const maxChunks = 1024

// OpenWAV opens a WAV file a person named. Like every user-named path it is
// opened non-blocking and must be a regular file, so a FIFO or /dev/zero
// is an error, not a hang.
func OpenWAV(path string) (*WAV, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("audio file %s: %w", path, unwrapPath(err))
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file; expected a WAV file")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audio file %s: %w", path, unwrapPath(err))
	}
	w, err := NewWAV(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.c = f
	return w, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NewWAV reads the header of a WAV of size bytes from r; name is what
// errors call it.
func NewWAV(r io.ReadSeeker, size int64, name string) (*WAV, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("audio file %s: "+format, append([]any{name}, a...)...)
	}
	var h [12]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fail("too short for a WAV header (%v); expected a RIFF WAVE file", err)
	}
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return nil, fail("starts with %q; expected a RIFF WAVE file", printable(h[0:4]))
	}
	w := &WAV{name: name, r: r}
	off := int64(12)
	haveFmt := false
	for i := 0; ; i++ {
		if i == maxChunks {
			return nil, fail("no data chunk in the first %d chunks", maxChunks)
		}
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fail("no data chunk; expected one after the fmt chunk")
		}
		off += 8
		id, n := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		skip := n + n%2 // chunks are padded to even sizes
		switch id {
		case "fmt ":
			if n < 16 || n > 64 {
				return nil, fail("fmt chunk of %d bytes; expected 16..64", n)
			}
			var fm [64]byte
			if _, err := io.ReadFull(r, fm[:n]); err != nil {
				return nil, fail("fmt chunk cut short; the file is truncated")
			}
			if err := w.format(fm[:n]); err != nil {
				return nil, fail("%v", err)
			}
			haveFmt = true
			skip = n % 2
		case "data":
			if !haveFmt {
				return nil, fail("data chunk before the fmt chunk; expected fmt first")
			}
			// Streaming writers leave the size at 0 or 0xFFFFFFFF: believe
			// the file, never more than it holds.
			if n == 0 || n > size-off {
				n = max(0, size-off)
			}
			frame := int64(w.channels * w.bits / 8)
			w.frames = n / frame
			if w.frames == 0 {
				return nil, fail("no samples in the data chunk")
			}
			w.buf = make([]byte, 4096*frame)
			return w, nil
		default:
			if off+n > size {
				return nil, fail("%q chunk of %d bytes runs past the end of the file", printable(ch[0:4]), n)
			}
		}
		if skip > 0 {
			if _, err := r.Seek(skip, io.SeekCurrent); err != nil {
				return nil, fail("%v", err)
			}
		}
		off += n + n%2
	}
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// format reads a fmt chunk.
func (w *WAV) format(b []byte) error {
	tag := binary.LittleEndian.Uint16(b[0:2])
	w.channels = int(binary.LittleEndian.Uint16(b[2:4]))
	rate := binary.LittleEndian.Uint32(b[4:8])
	w.bits = int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == 0xFFFE { // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID
		if len(b) < 40 {
			return fmt.Errorf("extensible fmt chunk of %d bytes; expected 40", len(b))
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case tag == 1 && (w.bits == 16 || w.bits == 24 || w.bits == 32):
	case tag == 3 && w.bits == 32:
		w.float = true
	default:
		return fmt.Errorf("format %d with %d bits per sample; expected PCM (1) of 16, 24 or 32 bits, or float (3) of 32 bits", tag, w.bits)
	}
	if w.channels < 1 || w.channels > 8 {
		return fmt.Errorf("%d channels; expected 1..8", w.channels)
	}
	if rate < 4000 || rate > 768000 {
		return fmt.Errorf("sample rate %d Hz; expected 4000..768000", rate)
	}
	w.rate = int(rate)
	return nil
}

// Rate is the file's sample rate in Hz.
func (w *WAV) Rate() int { return w.rate }

// Channels is how many channels the file holds (Read mixes them).
func (w *WAV) Channels() int { return w.channels }

// Frames is the number of samples per channel.
func (w *WAV) Frames() int64 { return w.frames }

// Duration is the file's length in seconds.
func (w *WAV) Duration() float64 { return float64(w.frames) / float64(w.rate) }

// Read fills dst with the next mono samples and returns how many. At the
// end of the data it returns io.EOF; a file cut short ends there, as a
// player would play it.
func (w *WAV) Read(dst []float32) (int, error) {
	if w.pos >= w.frames {
		return 0, io.EOF
	}
	frame := w.channels * w.bits / 8
	n := int(min(int64(len(dst)), w.frames-w.pos, int64(len(w.buf)/frame)))
	got, err := io.ReadFull(w.r, w.buf[:n*frame])
	n = got / frame
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		w.frames = w.pos + int64(n) // the file was shorter than its header said
		err = nil
		if n == 0 {
			return 0, io.EOF
		}
	} else if err != nil {
		return 0, fmt.Errorf("audio file %s: %w", w.name, unwrapPath(err))
	}
	b := w.buf
	bps := w.bits / 8
	inv := 1 / float32(w.channels)
	for i := range n {
		var sum float32
		for c := range w.channels {
			p := b[(i*w.channels+c)*bps:]
			switch {
			case w.float:
				v := math.Float32frombits(binary.LittleEndian.Uint32(p))
				if v != v || v > 1 || v < -1 { // NaN, ±Inf, out of range
					v = max(-1, min(1, v))
					if v != v {
						v = 0
					}
				}
				sum += v
			case bps == 2:
				sum += float32(int16(binary.LittleEndian.Uint16(p))) / 32768
			case bps == 3:
				sum += float32(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24)) / (1 << 31)
			default:
				sum += float32(int32(binary.LittleEndian.Uint32(p))) / (1 << 31)
			}
		}
		dst[i] = sum * inv
	}
	w.pos += int64(n)
	return n, nil
}

// Close closes the file OpenWAV opened.
func (w *WAV) Close() error {
	if w.c == nil {
		return nil
	}
	return w.c.Close()
}
