// Package osc reads and writes Open Sound Control packets: messages with
// the OSC 1.0 and 1.1 argument types, bundles (nested too) with a time tag,
// and OSC 1.0 address patterns. It is written from the specifications,
// because no maintained Go OSC library is available here.
package osc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Message is one OSC message: an address pattern and its arguments. An
// argument is, by type tag:
//
//	i int32    f float32   s, S string   b []byte (blob)
//	h int64    d float64   t TimeTag     c int32 (a character)
//	r RGBA     m MIDI      T, F bool     N nil   I Impulse
//
// A symbol (S) reads as a string and is written back as one (s).
type Message struct {
	Address string
	Args    []any
}

// RGBA is a 32-bit colour argument (type tag r).
type RGBA uint32

// MIDI is a MIDI message argument (type tag m): port id, status, data 1, data 2.
type MIDI [4]byte

// Impulse is the argument of type tag I ("infinitum" in OSC 1.0, "impulse"
// or "bang" in 1.1): it carries no data.
type Impulse struct{}

// MaxArgs bounds a message's arguments, so a packet of bare type tags
// (T, F, N take no bytes) cannot make a large slice.
const MaxArgs = 256

// Bundle is a time tag and the packets it holds, messages or bundles.
// Bad holds the elements that did not parse: each is skipped, and the rest
// of the bundle stands.
type Bundle struct {
	Time     TimeTag
	Messages []Message
	Bundles  []Bundle
	Bad      []error
}

// TimeTag is an NTP time stamp: seconds since 1900 in the high 32 bits and
// fractions of a second in the low 32. The value 1 means "immediately".
type TimeTag uint64

// Immediately is the time tag that asks for execution on receipt.
const Immediately TimeTag = 1

// ntpEpoch is the offset between 1900 (NTP) and 1970 (Unix) in seconds.
const ntpEpoch = 2208988800

// Time converts the tag to wall time; Immediately gives the zero time.
func (t TimeTag) Time() time.Time {
	if t == Immediately {
		return time.Time{}
	}
	sec := int64(t>>32) - ntpEpoch
	frac := int64(t & 0xffffffff)
	return time.Unix(sec, (frac*1e9)>>32)
}

// TagOf converts wall time to a time tag.
func TagOf(t time.Time) TimeTag {
	sec := uint64(t.Unix() + ntpEpoch)
	frac := (uint64(t.Nanosecond()) << 32) / 1e9
	return TimeTag(sec<<32 | frac)
}

// MaxDepth bounds bundle nesting, so a hostile packet cannot exhaust the
// stack.
const MaxDepth = 8

// ParseError says what is wrong with a packet and where.
type ParseError struct {
	Offset int
	Msg    string
}

func (e *ParseError) Error() string { return fmt.Sprintf("osc: byte %d: %s", e.Offset, e.Msg) }

// Parse reads one packet: a message (first byte '/') or a bundle ("#bundle").
// Exactly one of the results is non-nil when err is nil. Blob arguments
// alias data.
func Parse(data []byte) (*Message, *Bundle, error) {
	if len(data) == 0 {
		return nil, nil, &ParseError{0, "empty packet"}
	}
	if len(data)%4 != 0 {
		return nil, nil, &ParseError{len(data), fmt.Sprintf("packet size %d is not a multiple of 4", len(data))}
	}
	switch data[0] {
	case '/':
		m, err := parseMessage(data, 0)
		if err != nil {
			return nil, nil, err
		}
		return &m, nil, nil
	case '#':
		b, err := parseBundle(data, 0, 0)
		if err != nil {
			return nil, nil, err
		}
		return nil, &b, nil
	}
	return nil, nil, &ParseError{0, fmt.Sprintf("packet starts with %q; expected '/' (message) or '#bundle'", data[0])}
}

// Walk calls f for every message of a bundle: its own messages first, then
// those of its bundles, depth first.
func (b *Bundle) Walk(f func(m *Message)) {
	for i := range b.Messages {
		f(&b.Messages[i])
	}
	for i := range b.Bundles {
		b.Bundles[i].Walk(f)
	}
}

// readString reads an OSC-string at off: bytes, a NUL, then NULs to a
// multiple of 4. It returns the string and the offset after the padding.
func readString(data []byte, off, base int) (string, int, error) {
	s, end, err := readBytes(data, off, base)
	return string(s), end, err
}

// readBytes is readString without the copy.
func readBytes(data []byte, off, base int) ([]byte, int, error) {
	for i := off; i < len(data); i++ {
		if data[i] != 0 {
			continue
		}
		end := pad(i + 1)
		if end > len(data) {
			return nil, 0, &ParseError{base + i, "string padding runs past the end"}
		}
		for j := i + 1; j < end; j++ {
			if data[j] != 0 {
				return nil, 0, &ParseError{base + j, "string padding is not zero"}
			}
		}
		return data[off:i], end, nil
	}
	return nil, 0, &ParseError{base + off, "string has no terminating NUL"}
}

func pad(n int) int { return (n + 3) &^ 3 }

func parseMessage(data []byte, base int) (Message, error) {
	addr, off, err := readString(data, 0, base)
	if err != nil {
		return Message{}, err
	}
	if !strings.HasPrefix(addr, "/") {
		return Message{}, &ParseError{base, fmt.Sprintf("address %q does not start with '/'", addr)}
	}
	m := Message{Address: addr}
	if off == len(data) {
		return m, nil // no type tag string: old implementations send none
	}
	tags, off, err := readString(data, off, base)
	if err != nil {
		return Message{}, err
	}
	if !strings.HasPrefix(tags, ",") {
		return Message{}, &ParseError{base + len(addr), fmt.Sprintf("type tags %q do not start with ','", tags)}
	}
	tags = tags[1:]
	if len(tags) > MaxArgs {
		return Message{}, &ParseError{base + len(addr), fmt.Sprintf("%d arguments; at most %d are accepted", len(tags), MaxArgs)}
	}
	if len(tags) > 0 {
		m.Args = make([]any, 0, len(tags))
	}
	for _, t := range tags {
		var a any
		a, off, err = readArg(data, off, base, t)
		if err != nil {
			return Message{}, err
		}
		m.Args = append(m.Args, a)
	}
	if off != len(data) {
		return Message{}, &ParseError{base + off, fmt.Sprintf("%d bytes after the last argument", len(data)-off)}
	}
	return m, nil
}

// readArg reads one argument of type tag t at off.
func readArg(data []byte, off, base int, t rune) (any, int, error) {
	fixed := func(n int) ([]byte, error) {
		if off+n > len(data) {
			return nil, &ParseError{base + off, fmt.Sprintf("argument %c runs past the end", t)}
		}
		return data[off : off+n], nil
	}
	switch t {
	case 'i', 'f', 'c', 'r', 'm':
		b, err := fixed(4)
		if err != nil {
			return nil, 0, err
		}
		u := binary.BigEndian.Uint32(b)
		switch t {
		case 'i', 'c':
			return int32(u), off + 4, nil
		case 'f':
			return math.Float32frombits(u), off + 4, nil
		case 'r':
			return RGBA(u), off + 4, nil
		}
		return MIDI(b), off + 4, nil
	case 'h', 'd', 't':
		b, err := fixed(8)
		if err != nil {
			return nil, 0, err
		}
		u := binary.BigEndian.Uint64(b)
		switch t {
		case 'h':
			return int64(u), off + 8, nil
		case 'd':
			return math.Float64frombits(u), off + 8, nil
		}
		return TimeTag(u), off + 8, nil
	case 's', 'S':
		return readString(data, off, base)
	case 'b':
		if off+4 > len(data) {
			return nil, 0, &ParseError{base + off, "blob size runs past the end"}
		}
		n := binary.BigEndian.Uint32(data[off:])
		off += 4
		if uint64(n) > uint64(len(data)-off) || pad(off+int(n)) > len(data) {
			return nil, 0, &ParseError{base + off, fmt.Sprintf("blob of %d bytes runs past the end", n)}
		}
		return data[off : off+int(n)], pad(off + int(n)), nil
	case 'T':
		return true, off, nil
	case 'F':
		return false, off, nil
	case 'N':
		return nil, off, nil
	case 'I':
		return Impulse{}, off, nil
	}
	return nil, 0, &ParseError{base + off, fmt.Sprintf("unsupported type tag %q; expected one of i f s b h d t S c r m T F N I", t)}
}

const bundleTag = "#bundle"

func parseBundle(data []byte, base, depth int) (Bundle, error) {
	if depth >= MaxDepth {
		return Bundle{}, &ParseError{base, fmt.Sprintf("bundles nested deeper than %d", MaxDepth)}
	}
	tag, off, err := readString(data, 0, base)
	if err != nil {
		return Bundle{}, err
	}
	if tag != bundleTag {
		return Bundle{}, &ParseError{base, fmt.Sprintf("%q is not #bundle", tag)}
	}
	if off+8 > len(data) {
		return Bundle{}, &ParseError{base + off, "bundle has no time tag"}
	}
	b := Bundle{Time: TimeTag(binary.BigEndian.Uint64(data[off:]))}
	off += 8
	for off < len(data) {
		if off+4 > len(data) {
			return Bundle{}, &ParseError{base + off, "element size runs past the end"}
		}
		n := binary.BigEndian.Uint32(data[off:])
		off += 4
		if n == 0 || n%4 != 0 || uint64(n) > uint64(len(data)-off) {
			return Bundle{}, &ParseError{base + off - 4, fmt.Sprintf("element size %d: expected a positive multiple of 4 within the bundle", n)}
		}
		elem := data[off : off+int(n)]
		switch elem[0] {
		// The element's size frames it, so a bad one is skipped and its
		// siblings still stand.
		case '/':
			if m, err := parseMessage(elem, base+off); err != nil {
				b.Bad = append(b.Bad, err)
			} else {
				b.Messages = append(b.Messages, m)
			}
		case '#':
			if sub, err := parseBundle(elem, base+off, depth+1); err != nil {
				b.Bad = append(b.Bad, err)
			} else {
				b.Bundles = append(b.Bundles, sub)
			}
		default:
			b.Bad = append(b.Bad, &ParseError{base + off, fmt.Sprintf("element starts with %q; expected '/' or '#bundle'", elem[0])})
		}
		off += int(n)
	}
	return b, nil
}

// ErrArg is returned by AppendMessage for an argument of a type OSC lacks.
var ErrArg = errors.New("osc: argument must be int32, float32, string, []byte, int64, float64, TimeTag, RGBA, MIDI, bool, nil or Impulse")

// AppendMessage appends m's encoding to dst.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if !strings.HasPrefix(m.Address, "/") || strings.IndexByte(m.Address, 0) >= 0 {
		return dst, fmt.Errorf("osc: address %q: expected '/' first and no NUL byte", m.Address)
	}
	dst = appendString(dst, m.Address)
	tags := make([]byte, 1, 1+len(m.Args))
	tags[0] = ','
	for _, a := range m.Args {
		var t byte
		switch v := a.(type) {
		case int32:
			t = 'i'
		case float32:
			t = 'f'
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return dst, fmt.Errorf("osc: string argument of %s contains a NUL byte", m.Address)
			}
			t = 's'
		case []byte:
			t = 'b'
		case int64:
			t = 'h'
		case float64:
			t = 'd'
		case TimeTag:
			t = 't'
		case RGBA:
			t = 'r'
		case MIDI:
			t = 'm'
		case bool:
			t = 'F'
			if v {
				t = 'T'
			}
		case nil:
			t = 'N'
		case Impulse:
			t = 'I'
		default:
			return dst, fmt.Errorf("%w, got %T in %s", ErrArg, a, m.Address)
		}
		tags = append(tags, t)
	}
	dst = appendString(dst, string(tags))
	for _, a := range m.Args {
		switch v := a.(type) {
		case int32:
			dst = binary.BigEndian.AppendUint32(dst, uint32(v))
		case float32:
			dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(v))
		case string:
			dst = appendString(dst, v)
		case []byte:
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
			dst = append(dst, v...)
			for len(dst)%4 != 0 {
				dst = append(dst, 0)
			}
		case int64:
			dst = binary.BigEndian.AppendUint64(dst, uint64(v))
		case float64:
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
		case TimeTag:
			dst = binary.BigEndian.AppendUint64(dst, uint64(v))
		case RGBA:
			dst = binary.BigEndian.AppendUint32(dst, uint32(v))
		case MIDI:
			dst = append(dst, v[:]...)
		}
	}
	return dst, nil
}

// AppendBundle appends b's encoding to dst: its messages, then its bundles.
func AppendBundle(dst []byte, b *Bundle) ([]byte, error) {
	dst = appendString(dst, bundleTag)
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.Time))
	var err error
	elem := func(write func([]byte) ([]byte, error)) {
		if err != nil {
			return
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst, err = write(dst)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	for i := range b.Messages {
		elem(func(d []byte) ([]byte, error) { return AppendMessage(d, &b.Messages[i]) })
	}
	for i := range b.Bundles {
		elem(func(d []byte) ([]byte, error) { return AppendBundle(d, &b.Bundles[i]) })
	}
	return dst, err
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, s...)
	dst = append(dst, 0)
	for len(dst)%4 != 0 {
		dst = append(dst, 0)
	}
	return dst
}
